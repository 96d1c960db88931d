#include "billing/proration.hpp"

#include <algorithm>
#include <stdexcept>

namespace relayhost::billing {

namespace {

int64_t price_of(const plan_catalog& plans, const std::string& id) {
  auto* p = find_plan(plans, id);
  if (!p)
    throw std::domain_error("plan '" + id + "' is in the activity log but not in PLANS");
  return p->sats_per_month;
}

} // namespace

std::optional<relay_item> prorate_relay(const std::vector<relay_activity>& log, const period& p,
                                        const plan_catalog& plans) {
  if (log.empty() || log.front().at >= p.end || p.seconds() <= 0)
    return std::nullopt;
  relay_item item;
  item.relay_id = log.front().relay_id;

  // Walk the period: `state` is the row in force from `since` on. Stretches on the
  // same plan that touch (a row that changed neither plan nor activity) are one.
  struct stretch {
    std::string plan;
    int64_t from, to;
  };
  std::vector<stretch> stretches;
  const relay_activity* state = nullptr;
  size_t i = 0;
  for (; i < log.size() && log[i].at <= p.start; ++i)
    state = &log[i];
  int64_t since = p.start;
  auto close = [&](int64_t until) {
    if (!state || !state->active || until <= since)
      return;
    if (!stretches.empty() && stretches.back().plan == state->plan && stretches.back().to == since)
      stretches.back().to = until;
    else
      stretches.push_back({state->plan, since, until});
  };
  for (; i < log.size() && log[i].at < p.end; ++i) {
    close(log[i].at);
    since = std::max(since, log[i].at);
    state = &log[i];
  }
  close(p.end);
  item.plan = state->plan;  // the loops above ran at least once: log.front().at < p.end
  for (auto& s : stretches)
    item.segments.push_back({s.plan, s.to - s.from, 0});

  __int128 weighted = 0;
  for (auto& s : item.segments) {
    int64_t price = price_of(plans, s.plan);
    __int128 share = static_cast<__int128>(price) * s.active_seconds;
    weighted += share;
    s.amount_sats = ceil_div(share, p.seconds());
    item.active_seconds += s.active_seconds;
  }
  item.amount_sats = ceil_div(weighted, p.seconds());
  item.active_hours = (item.active_seconds + 3599) / 3600;
  return item;
}

invoice_draft bill_period(const std::map<std::string, std::vector<relay_activity>>& logs, const period& p,
                          const plan_catalog& plans) {
  invoice_draft d;
  for (auto& [id, log] : logs) {
    auto item = prorate_relay(log, p, plans);
    if (!item || item->amount_sats <= 0)
      continue;
    item->relay_id = id;
    d.total_sats += item->amount_sats;
    d.items.push_back(std::move(*item));
  }
  return d;
}

} // namespace relayhost::billing
