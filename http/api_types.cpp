#include "http/api_types.hpp"

#include <atomic>

namespace relayhost::http {

struct responder::state {
  sink deliver;
  std::atomic<bool> done{false};

  explicit state(sink s) : deliver(std::move(s)) {}

  ~state() {
    if (!done.exchange(true) && deliver)
      deliver(api_response::error(errc::unavailable, "the request could not be completed"));
  }
};

responder::responder(sink s) : state_(std::make_shared<state>(std::move(s))) {}

void responder::operator()(api_response r) const {
  if (state_ && !state_->done.exchange(true))
    state_->deliver(std::move(r));
}

bool responder::answered() const noexcept {
  return !state_ || state_->done.load();
}

api_response api_response::json(int status, std::string body) {
  api_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

api_response api_response::error(const api_error& e) {
  return json(http_status(e.code), error_body(e));
}

api_response api_response::error(errc code, std::string message) {
  return error(api_error{code, std::move(message), {}});
}

const std::string& api_request::param(std::string_view name) const {
  static const std::string empty;
  for (auto& [k, v] : params)
    if (k == name)
      return v;
  return empty;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
} // namespace

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size())
      return std::nullopt;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::optional<std::string> api_request::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    auto eq = pair.find('=');
    auto key = pair.substr(0, eq);
    if (key != name)
      continue;
    auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    std::string v(value);
    for (auto& c : v)
      if (c == '+')
        c = ' ';
    return percent_decode(v);
  }
  return std::nullopt;
}

} // namespace relayhost::http
