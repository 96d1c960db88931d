// Accepts connections on the public address and starts a session for each, every
// connection on its own strand. Internal to http/: includes Asio.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

namespace relayhost::http {

struct server_context;

class listener : public std::enable_shared_from_this<listener> {
public:
  /// `acceptor` is bound and listening, on a strand of `ioc`.
  listener(boost::asio::io_context& ioc, boost::asio::ip::tcp::acceptor&& acceptor, server_context& ctx);

  void run();

  /// From any thread: stop accepting and close the listening socket.
  void stop();

private:
  void accept();
  void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  server_context& ctx_;
  bool stopped_ = false;
};

} // namespace relayhost::http
