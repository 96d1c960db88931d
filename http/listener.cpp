#include "http/listener.hpp"

#include <chrono>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "core/log.hpp"
#include "http/server_context.hpp"
#include "http/session.hpp"

namespace relayhost::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {
// After a failed accept (typically EMFILE: out of file descriptors) wait a little
// before the next one instead of spinning; connections that close meanwhile free
// descriptors.
constexpr std::chrono::milliseconds accept_retry_delay{100};
} // namespace

listener::listener(net::io_context& ioc, tcp::acceptor&& acceptor, server_context& ctx)
  : ioc_(ioc), acceptor_(std::move(acceptor)), retry_timer_(acceptor_.get_executor()), ctx_(ctx) {}

void listener::run() {
  net::post(acceptor_.get_executor(), beast::bind_front_handler(&listener::accept, shared_from_this()));
}

void listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    beast::error_code ec;
    self->acceptor_.close(ec);
    self->retry_timer_.cancel();
  });
}

void listener::accept() {
  if (stopped_)
    return;
  acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopped_ || ec == net::error::operation_aborted)
    return;
  if (ec) {
    log::warn("http accept failed", {{"error", ec.message()}});
    retry_timer_.expires_after(accept_retry_delay);
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec)
        self->accept();
    });
    return;
  }
  std::make_shared<session>(std::move(socket), ctx_)->run();
  accept();
}

} // namespace relayhost::http
