// What the listener and every session of one server share: options, routes, the
// NIP-98 verifier, request ids, the connection registry and the reply gate.
// Internal to http/; no Beast, so it stays cheap to include.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "http/connection_registry.hpp"
#include "http/request_id.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "nostr/nip98.hpp"

namespace relayhost::http {

/// Lets answers arriving from other threads (actors) reach a connection only while
/// the server's io_context is alive: stop() closes the gate before the io threads
/// end, so a late responder never posts into a destroyed io_context.
class reply_gate {
public:
  template <class F>
  void run_if_open(F&& f) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (open_)
      f();
  }

  void close() {
    std::lock_guard<std::mutex> guard{mutex_};
    open_ = false;
  }

private:
  std::mutex mutex_;
  bool open_ = true;
};

struct server_context {
  server_context(server_options opts, std::shared_ptr<const router> r)
    : options(std::move(opts)), routes(std::move(r)), verifier(options.nip98_max_skew) {}

  server_options options;
  std::string public_url;  // set by server::start() before any connection exists
  std::shared_ptr<const router> routes;
  nostr::nip98_verifier verifier;
  request_id_generator request_ids;
  connection_registry connections;
  std::shared_ptr<reply_gate> gate = std::make_shared<reply_gate>();
};

} // namespace relayhost::http
