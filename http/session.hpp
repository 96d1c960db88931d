// One client connection: reads requests one at a time under the header/idle/body
// timeouts, enforces the size limits, verifies NIP-98, routes, hands the request
// to its handler and writes the answer. Everything runs on the connection's strand.
// Internal to http/: includes Beast.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/api_types.hpp"
#include "http/router.hpp"
#include "http/wire_response.hpp"

namespace relayhost::http {

struct server_context;

class session : public std::enable_shared_from_this<session> {
public:
  session(boost::asio::ip::tcp::socket&& socket, server_context& ctx);
  ~session();

  /// Registers with the server and starts reading (on the strand).
  void run();

  /// From any thread: close now if idle or still receiving a header block;
  /// otherwise finish the request in flight and close after its response.
  void begin_shutdown();

  /// Closes the socket directly; only when no io thread runs (after stop() joined them).
  void close_now();

private:
  // Where the connection is; decides what a shutdown does and which timeout applies.
  enum class phase { idle, header, body, handling, writing, lingering, closed };

  void start();
  void await_request();
  void read_header();
  void on_header(boost::beast::error_code ec);
  void read_body();
  void on_body(boost::beast::error_code ec);
  void on_read_error(boost::beast::error_code ec);
  void dispatch_request();
  void call_handler(const router::route& route, api_request&& req);
  responder::sink make_sink(uint64_t seq);
  void on_answer(uint64_t seq, api_response&& res);
  void reject(const api_error& e);
  void write_response(api_response&& res);
  void on_write(boost::beast::error_code ec);
  void finish_request();
  void linger_then_close();
  void drain();
  void on_shutdown();
  void close();
  void unregister();

  boost::beast::tcp_stream stream_;
  const boost::asio::any_io_executor strand_;  // copy, readable from any thread
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  wire_response response_;                     // alive while being written
  boost::asio::steady_timer handler_timer_;
  server_context& ctx_;
  std::string remote_;

  phase phase_ = phase::header;
  bool registered_ = false;
  bool served_one_ = false;       // the first request's header timeout runs from connect
  bool shutting_down_ = false;
  bool linger_after_write_ = false;
  size_t drained_ = 0;

  // The request in flight. seq_ numbers requests so that an answer for an earlier
  // one (a late actor reply after a 503 timeout) is recognised and dropped.
  uint64_t seq_ = 0;
  bool awaiting_answer_ = false;
  std::string method_;
  std::string_view route_ = "-";  // a template owned by the router, or "-"
  std::string request_id_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  int status_ = 0;
  std::chrono::steady_clock::time_point started_;
};

} // namespace relayhost::http
