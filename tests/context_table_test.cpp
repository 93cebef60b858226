#include "support.hpp"

#include <random>
#include <unordered_map>

#include <switchyard/detail/context_table.hpp>

TEST_CASE("the ID table agrees with std::unordered_map under random inserts and erases") {
  sy::detail::ContextTable table;
  std::unordered_map<sy::ContextId, sy::detail::Context*> model;
  std::mt19937_64 rng(12345);
  sy::ContextId next = 1;
  std::vector<sy::ContextId> live;
  for (int step = 0; step < 200000; ++step) {
    bool insert = live.empty() || rng() % 100 < 55;
    if (insert) {
      // IDs mostly consecutive with jumps, as when many are destroyed early.
      next += 1 + (rng() % 10 == 0 ? rng() % 5000 : 0);
      auto* fake = reinterpret_cast<sy::detail::Context*>(next * 16);
      table.insert(next, fake);
      model[next] = fake;
      live.push_back(next);
    } else {
      std::size_t k = rng() % live.size();
      table.erase(live[k]);
      model.erase(live[k]);
      live[k] = live.back();
      live.pop_back();
    }
    if (step % 997 == 0) {
      for (auto& [id, ptr] : model) REQUIRE(table.find(id) == ptr);
      REQUIRE(table.find(next + 1) == nullptr);
    }
  }
  CHECK(table.size() == model.size());
  for (auto& [id, ptr] : model) CHECK(table.find(id) == ptr);
  for (sy::ContextId id = 1; id <= next; id += 7)
    if (!model.count(id)) CHECK(table.find(id) == nullptr);
}

TEST_CASE("long-lived IDs do not slow down churn of newer IDs") {
  // A few old contexts stay while many newer ones come and go: the table
  // must not let the old IDs become a run that every newer ID probes.
  sy::detail::ContextTable table;
  auto* fake = reinterpret_cast<sy::detail::Context*>(16);
  for (sy::ContextId id = 1; id <= 1000; ++id) table.insert(id, fake);
  for (sy::ContextId id = 1001; id <= 200000; ++id) {
    table.insert(id, fake);
    REQUIRE(table.find(id) == fake);
    table.erase(id);
    REQUIRE(table.find(id) == nullptr);
  }
  CHECK(table.size() == 1000);
  for (sy::ContextId id = 1; id <= 1000; ++id) CHECK(table.find(id) == fake);
}
