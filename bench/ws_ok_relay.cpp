// A minimal local Nostr relay for benchmarks (not a test counterpart: the tests use
// @nostr-relay/core): every EVENT is kept (up to a cap) and answered OK true; a
// REQ is answered with the kept events matching its `kinds` and `authors`, then
// EOSE. One thread per connection, blocking Beast; fast enough not to be what a
// benchmark measures.
//
//   bench_ws_ok_relay <port>      prints "ready" when listening
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace net = boost::asio;
namespace ws = boost::beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;

namespace {

constexpr size_t max_kept = 200000;
std::mutex mu;
std::deque<json> kept;

bool matches(const json& ev, const json& filter) {
  if (filter.contains("kinds")) {
    bool ok = false;
    for (auto& k : filter["kinds"])
      ok = ok || k == ev["kind"];
    if (!ok)
      return false;
  }
  if (filter.contains("authors")) {
    bool ok = false;
    for (auto& a : filter["authors"])
      ok = ok || a == ev["pubkey"];
    if (!ok)
      return false;
  }
  return true;
}

void serve(tcp::socket sock) {
  try {
    ws::stream<tcp::socket> s(std::move(sock));
    s.read_message_max(16 * 1024 * 1024);
    s.accept();
    s.text(true);
    boost::beast::flat_buffer buf;
    for (;;) {
      buf.clear();
      s.read(buf);
      auto msg = json::parse(boost::beast::buffers_to_string(buf.data()), nullptr, false);
      if (!msg.is_array() || msg.empty() || !msg[0].is_string())
        continue;
      auto type = msg[0].get<std::string>();
      if (type == "EVENT" && msg.size() >= 2) {
        auto id = msg[1].value("id", std::string());
        {
          std::lock_guard<std::mutex> g(mu);
          if (kept.size() >= max_kept)
            kept.pop_front();
          kept.push_back(msg[1]);
        }
        s.write(net::buffer(json::array({"OK", id, true, ""}).dump()));
      } else if (type == "REQ" && msg.size() >= 2) {
        auto sub = msg[1];
        std::vector<std::string> out;
        {
          std::lock_guard<std::mutex> g(mu);
          for (auto& ev : kept)
            for (size_t i = 2; i < msg.size(); ++i)
              if (matches(ev, msg[i])) {
                out.push_back(json::array({"EVENT", sub, ev}).dump());
                break;
              }
        }
        for (auto& o : out)
          s.write(net::buffer(o));
        s.write(net::buffer(json::array({"EOSE", sub}).dump()));
      }
    }
  } catch (const std::exception&) {
    // the client went away
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_ws_ok_relay <port>\n");
    return 2;
  }
  net::io_context io;
  tcp::acceptor acc(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(argv[1]))));
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    tcp::socket sock(io);
    acc.accept(sock);
    std::thread(serve, std::move(sock)).detach();
  }
}
