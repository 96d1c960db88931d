// The notifier's wrap-and-publish throughput to a local relay, against the cost
// of its cryptography alone, in the same run; then the memory of one open relay
// connection.
//
//   bench_dm_delivery [notices=5000] [recipients=100] [connections=500]
//
// 1. crypto only: nostr::wrap_dm on one thread (fresh wrap key, two ECDHs, two
//    NIP-44 encryptions, the seal's and the wrap's signatures).
// 2. the product: storage actor + websocket client + relay pool + notifier as
//    app/wiring wires them, over a real SQLite file, against bench_ws_ok_relay
//    (started here) as both the indexer and the inbox relay. `notices` rows are
//    written, the notifier is kicked, and the clock stops when every row is `sent`
//    (each: a 10050 lookup per recipient, the wrap built and committed, published,
//    the relay's OK, the outcome committed).
// 3. `connections` live subscriptions to distinct relay URLs (paths of the same
//    relay): resident memory per open connection.
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include "actors/notifier.hpp"
#include "actors/relay_pool.hpp"
#include "actors/storage_actor.hpp"
#include "http/ws_client.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip59.hpp"
#include "nostr/signer.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "storage/notification_store.hpp"
#include "storage/tenant_store.hpp"

using namespace relayhost;
using clock_type = std::chrono::steady_clock;

extern char** environ;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

int free_port() {
  // Bind port 0 on a throwaway socket and read the port back; the relay binds it right after.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return 0;
  close(fd);
  return ntohs(a.sin_port);
}

pid_t start_relay(const std::string& self_path, int port, FILE** out) {
  auto bin = (std::filesystem::path(self_path).parent_path() / "bench_ws_ok_relay").string();
  int fds[2];
  if (pipe(fds) != 0)
    return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  auto port_s = std::to_string(port);
  char* argv[] = {const_cast<char*>(bin.c_str()), const_cast<char*>(port_s.c_str()), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv, environ) != 0)
    return -1;
  close(fds[1]);
  *out = fdopen(fds[0], "r");
  char line[64] = {};
  if (!std::fgets(line, sizeof line, *out) || std::string(line).rfind("ready", 0) != 0)
    return -1;
  return pid;
}

nostr::event make_inbox_list(const nostr::secret_key& who, const std::string& relay) {
  nostr::event e;
  e.kind = 10050;
  e.created_at = static_cast<int64_t>(std::time(nullptr));
  e.tags = {{"relay", relay}};
  return nostr::sign_event(std::move(e), who);
}

} // namespace

int main(int argc, char** argv) {
  const size_t notices = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 5000;
  const size_t recipients = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100;
  const size_t connections = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 500;
  const auto platform = nostr::secret_key::generate();

  // 1. Crypto only.
  std::vector<nostr::secret_key> keys;
  for (size_t i = 0; i < recipients; ++i)
    keys.push_back(nostr::secret_key::generate());
  const size_t crypto_n = std::min<size_t>(notices, 3000);
  auto t0 = clock_type::now();
  for (size_t i = 0; i < crypto_n; ++i) {
    auto w = nostr::wrap_dm(platform, nostr::dm_message{keys[i % recipients].pubkey_hex(), "Your invoice for March", 1764000000});
    if (w.id.empty())
      return 1;
  }
  const double crypto_rate = static_cast<double>(crypto_n) / seconds_since(t0);
  std::printf("crypto only: %zu wraps in one thread: %.0f wraps/s\n", crypto_n, crypto_rate);

  // 2. Through the notifier.
  int port = free_port();
  FILE* relay_out = nullptr;
  pid_t relay = start_relay(argv[0], port, &relay_out);
  if (relay < 0) {
    std::fprintf(stderr, "cannot start bench_ws_ok_relay on port %d\n", port);
    return 1;
  }
  const std::string url = "ws://127.0.0.1:" + std::to_string(port);
  auto dir = std::filesystem::temp_directory_path() / ("rh-bench-dm-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "hosting.db").string();
  int rc = 0;
  {
    std::string err;
    auto db = storage::open_database(path, &err);
    if (!db || !storage::migrate(*db, storage::embedded_migrations(), &err)) {
      std::fprintf(stderr, "database: %s\n", err.c_str());
      return 1;
    }
    auto now = static_cast<int64_t>(std::time(nullptr));
    SQLite::Transaction tx(*db);
    for (auto& k : keys) {
      tenant t;
      t.pubkey = k.pubkey_hex();
      t.created_at = t.updated_at = now;
      storage::insert_tenant(*db, t);
    }
    for (size_t i = 0; i < notices; ++i) {
      char id[33];
      std::snprintf(id, sizeof id, "%032zx", i + 1);
      storage::insert_notification(*db, make_notification(id, keys[i % recipients].pubkey_hex(), "bench",
                                                          "bench:" + std::to_string(i), "Your invoice for March", now));
    }
    tx.commit();
  }
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.policy", caf::atom("sharing"));
    caf::actor_system sys{cfg};
    std::string err;
    auto storage = spawn_storage(sys, storage::open_database(path, &err), storage_options{});
    auto client = std::make_shared<http::ws_client>(http::ws_client::options{});
    auto penv = std::make_shared<relay_pool_env>();
    penv->connect = [client](const http::ws_target& t, http::ws_handlers h) { return client->connect(t, std::move(h)); };
    penv->platform_signer = std::make_shared<const nostr::signer>(platform);
    penv->now = [] { return static_cast<int64_t>(std::time(nullptr)); };
    penv->counters = std::make_shared<relay_pool_counters>();
    auto pool = sys.spawn(relay_pool_impl, std::shared_ptr<const relay_pool_env>(penv));
    caf::scoped_actor self{sys};
    for (auto& k : keys)
      self->request(pool, std::chrono::seconds{30}, publish_atom::value, make_inbox_list(k, url), std::vector<std::string>{url},
                    caf::timespan{std::chrono::seconds{10}})
        .receive([](publish_report&) {}, [](caf::error&) {});

    auto nenv = std::make_shared<notifier_env>();
    nenv->storage = storage;
    nenv->pool = pool;
    nenv->platform_key = std::make_shared<const nostr::secret_key>(platform);
    nenv->indexers = {url};
    nenv->now = [] { return static_cast<int64_t>(std::time(nullptr)); };
    nenv->counters = std::make_shared<notifier_counters>();
    auto notifier = sys.spawn(notifier_impl, std::shared_ptr<const notifier_env>(nenv));
    t0 = clock_type::now();
    caf::anon_send(notifier, notify_atom::value);
    while (nenv->counters->sent.load() + nenv->counters->failed.load() < notices && seconds_since(t0) < 300)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    const double elapsed = seconds_since(t0);
    const double rate = static_cast<double>(nenv->counters->sent.load()) / elapsed;
    std::printf("notifier: %zu notices to %zu recipients: %.2f s, %.0f sent/s (%zu failed, %zu retried)\n", notices,
                recipients, elapsed, rate, static_cast<size_t>(nenv->counters->failed.load()),
                static_cast<size_t>(nenv->counters->retried.load()));
    if (nenv->counters->sent.load() != notices)
      rc = 1;

    // 3. Memory per open connection.
    auto sink = sys.spawn([](pool_subscriber_actor::pointer) -> pool_subscriber_actor::behavior_type {
      return {[](pool_event_atom, uint64_t, std::string&, nostr::event&) {}};
    });
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    malloc_trim(0);
    const double before = rss_bytes();
    for (size_t i = 0; i < connections; ++i)
      self->send(pool, subscribe_atom::value, std::vector<std::string>{R"({"kinds":[23195],"limit":0})"},
                 std::vector<std::string>{url + "/c" + std::to_string(i)}, sink);
    auto t1 = clock_type::now();
    while (penv->counters->open.load() < static_cast<int64_t>(connections + 1) && seconds_since(t1) < 60)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    malloc_trim(0);
    const double after = rss_bytes();
    const double per_conn = (after - before) / static_cast<double>(connections);
    std::printf("connections: %lld open; resident memory +%.1f MiB, %.1f KiB per connection\n",
                static_cast<long long>(penv->counters->open.load()), (after - before) / 1048576.0, per_conn / 1024.0);
    std::printf("RESULT crypto_per_s=%.0f notifier_per_s=%.0f ratio=%.2f rss_per_connection=%.0f\n", crypto_rate, rate,
                rate / crypto_rate, per_conn);
    client->stop();
    for (auto a : {caf::actor_cast<caf::actor>(sink), caf::actor_cast<caf::actor>(notifier),
                   caf::actor_cast<caf::actor>(pool), caf::actor_cast<caf::actor>(storage)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
  kill(relay, SIGTERM);
  waitpid(relay, nullptr, 0);
  std::filesystem::remove_all(dir);
  return rc;
}
