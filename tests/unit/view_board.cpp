// The board where tenant actors publish their views: the latest view wins, only
// its owner withdraws it, reads leave a mark for the idle check, and readers on
// other threads always see a whole view while it is being replaced.
#define CAF_SUITE view_board
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <thread>

#include "actors/view_board.hpp"

using namespace relayhost;

namespace {

std::shared_ptr<const tenant_view> view_with(int relays) {
  std::vector<relay> rs;
  for (int i = 0; i < relays; ++i) {
    relay r;
    r.id = "r" + std::to_string(i);
    r.subdomain = "s" + std::to_string(i);
    r.seq = i + 1;
    rs.push_back(r);
  }
  tenant t;
  t.pubkey = std::to_string(relays);  // lets a reader check the view is whole
  auto v = std::make_shared<tenant_view>();
  v->row = std::make_shared<const tenant>(t);
  for (auto& r : rs)
    v->relays.push_back(std::make_shared<const relay>(r));
  return v;
}

const std::string alice(64, 'a');

} // namespace

CAF_TEST(latest_view_wins_and_only_its_owner_withdraws_it) {
  view_board b;
  CAF_CHECK(b.find(alice) == nullptr);
  auto v1 = view_with(1);
  b.publish(alice, 7, v1);
  CAF_CHECK(b.find(alice) == v1);
  auto v2 = view_with(2);
  b.publish(alice, 8, v2);  // a successor actor
  CAF_CHECK(b.find(alice) == v2);
  b.withdraw(alice, 7);  // the old actor ending late
  CAF_CHECK(b.find(alice) == v2);
  CAF_CHECK_EQUAL(b.size(), 1u);
  b.withdraw(alice, 8);
  CAF_CHECK(b.find(alice) == nullptr);
  CAF_CHECK_EQUAL(b.size(), 0u);
}

CAF_TEST(reads_leave_a_mark_that_the_owner_takes_once) {
  view_board b;
  b.publish(alice, 7, view_with(1));
  CAF_CHECK(!b.take_read_mark(alice, 7));
  b.find(alice);
  b.find(alice);
  CAF_CHECK(!b.take_read_mark(alice, 6));  // not the owner: nothing taken
  CAF_CHECK(b.take_read_mark(alice, 7));
  CAF_CHECK(!b.take_read_mark(alice, 7));
  b.find(alice);
  b.publish(alice, 8, view_with(2));  // a new owner starts unread
  CAF_CHECK(!b.take_read_mark(alice, 8));
}

CAF_TEST(readers_see_whole_views_while_they_are_replaced) {
  view_board b;
  b.publish(alice, 1, view_with(0));
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<long> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto v = b.find(alice);
        if (!v)
          continue;
        if (v->row->pubkey != std::to_string(v->relays.size()) || render_relay_page(*v, {}, "x").empty())
          ++torn;
        ++reads;
      }
    });
  for (int i = 0; i < 2000; ++i) {
    b.publish(alice, 1 + i % 3, view_with(i % 5));
    if (i % 100 == 0)
      b.withdraw(alice, 1 + i % 3);
  }
  while (reads.load() < 1000)
    std::this_thread::yield();
  stop = true;
  for (auto& r : readers)
    r.join();
  CAF_CHECK_EQUAL(torn.load(), 0);
}
