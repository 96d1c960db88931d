// The plan catalog (PLANS): plan id and price in sats per month.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relayhost {

struct plan {
  std::string id;
  int64_t sats_per_month = 0;
  bool paid() const { return sats_per_month > 0; }
};

using plan_catalog = std::vector<plan>;

inline const plan* find_plan(const plan_catalog& plans, std::string_view id) {
  for (auto& p : plans)
    if (p.id == id)
      return &p;
  return nullptr;
}

} // namespace relayhost
