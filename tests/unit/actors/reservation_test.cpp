// The reservation protocol of transactions (actors/reservation.hpp): tokens taken in one
// global order, so concurrent transactions over random partitions never deadlock, and a
// transaction holding its partitions is never interleaved with another writer of them.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "actors/reservation.hpp"

using namespace otkv;

namespace {

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count());
}

struct partitions {
  explicit partitions(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i)
      slots.push_back(std::make_unique<partition_slot>(store::partition{}, i, 0));
    balance.assign(n, 100);
    worker_ops.assign(n, 0);
  }
  std::vector<std::pair<uint32_t, partition_slot*>> pick(const std::vector<uint32_t>& ps) {
    std::vector<std::pair<uint32_t, partition_slot*>> out;
    for (auto p : ps)
      out.emplace_back(p, slots[p].get());
    return out;
  }
  std::vector<std::unique_ptr<partition_slot>> slots;
  // Touched only by holders of the partition's token: TSan reports any other access.
  std::vector<int64_t> balance;
  std::vector<uint64_t> worker_ops;
};

} // namespace

TEST_CASE("a reservation takes each partition once, in ascending order", "[reservation]") {
  partitions ps(6);
  reservation r(ps.pick({4, 1, 4, 0, 5}), partition_slot::guest_bit | 1);
  std::vector<uint32_t> order;
  for (const auto& [p, slot] : r.slots())
    order.push_back(p);
  CHECK(order == std::vector<uint32_t>{0, 1, 4, 5});
  REQUIRE(r.acquire(now_ns, now_ns() + 1'000'000'000));
  CHECK(r.held());
  for (auto p : order)
    CHECK(ps.slots[p]->holder.load() == (partition_slot::guest_bit | 1));
  CHECK(ps.slots[2]->holder.load() == 0);
  r.release();
  for (auto p : order)
    CHECK(ps.slots[p]->holder.load() == 0);
}

TEST_CASE("a partition held past the deadline: the reservation gives up holding nothing",
          "[reservation]") {
  partitions ps(4);
  REQUIRE(ps.slots[2]->claim(7)); // a hung worker
  reservation r(ps.pick({0, 1, 2, 3}), partition_slot::guest_bit | 1);
  auto started = now_ns();
  CHECK_FALSE(r.acquire(now_ns, started + 20'000'000));
  CHECK(now_ns() - started >= 20'000'000);
  CHECK_FALSE(r.held());
  for (uint32_t p : {0u, 1u, 3u})
    CHECK(ps.slots[p]->holder.load() == 0);
  ps.slots[2]->release(7);
  CHECK(r.acquire(now_ns, now_ns() + 1'000'000'000));
}

TEST_CASE("random transactions over random partitions: no deadlock, no torn transfer",
          "[reservation]") {
  constexpr uint32_t n = 8;
  constexpr int rounds = 3000;
  partitions ps(n);
  std::atomic<int> bad_audits{0};
  std::atomic<int> audits{0};
  std::atomic<bool> stop{false};
  std::atomic<int> timeouts{0}; // a reservation that waited 10 s: a deadlock
  // The others start once the auditor runs: on a loaded machine they could otherwise all be
  // done before its thread is first scheduled, and it would audit nothing concurrent.
  std::atomic<bool> auditing{false};
  auto wait_for_auditor = [&] {
    while (!auditing.load())
      std::this_thread::yield();
  };
  std::vector<std::thread> threads;
  // Transactions: move amounts between 2-4 random partitions, named in random order.
  for (uint64_t t = 1; t <= 4; ++t)
    threads.emplace_back([&, t] {
      wait_for_auditor();
      std::mt19937 rng(static_cast<uint32_t>(t));
      for (int i = 0; i < rounds; ++i) {
        std::vector<uint32_t> pick;
        size_t k = 2 + rng() % 3;
        while (pick.size() < k) {
          uint32_t p = rng() % n;
          if (std::find(pick.begin(), pick.end(), p) == pick.end())
            pick.push_back(p);
        }
        reservation r(ps.pick(pick), partition_slot::guest_bit | t);
        if (!r.acquire(now_ns, now_ns() + 10'000'000'000)) { // (Catch2 asserts on one thread)
          ++timeouts;
          continue;
        }
        int64_t amount = static_cast<int64_t>(rng() % 10);
        ps.balance[pick[0]] -= amount * static_cast<int64_t>(k - 1);
        for (size_t j = 1; j < k; ++j)
          ps.balance[pick[j]] += amount;
      }
    });
  // An auditor: every partition at once; the total must be exact in every read.
  threads.emplace_back([&] {
    std::vector<uint32_t> all;
    for (uint32_t p = 0; p < n; ++p)
      all.push_back(n - 1 - p);
    auditing = true;
    do { // at least once, even if the others finished first
      reservation r(ps.pick(all), partition_slot::guest_bit | 99);
      if (!r.acquire(now_ns, now_ns() + 10'000'000'000)) {
        ++timeouts;
        continue;
      }
      int64_t total = 0;
      for (auto b : ps.balance)
        total += b;
      if (total != 100 * n)
        ++bad_audits;
      ++audits;
    } while (!stop.load());
  });
  // Workers: one token at a time, never waiting while holding it (as partition workers).
  for (uint64_t w = 1; w <= 2; ++w)
    threads.emplace_back([&, w] {
      wait_for_auditor();
      std::mt19937 rng(static_cast<uint32_t>(100 + w));
      for (int i = 0; i < rounds; ++i) {
        uint32_t p = rng() % n;
        while (!ps.slots[p]->claim_after_guests(w))
          std::this_thread::yield();
        ++ps.worker_ops[p];
        ps.slots[p]->release(w);
      }
    });
  for (size_t i = 0; i < threads.size(); ++i)
    if (i != 4) // the auditor runs until the others are done
      threads[i].join();
  stop = true;
  threads[4].join();
  int64_t total = 0;
  for (auto b : ps.balance)
    total += b;
  CHECK(timeouts.load() == 0);
  CHECK(total == 100 * n);
  uint64_t ops = 0;
  for (auto o : ps.worker_ops)
    ops += o;
  CHECK(ops == 2 * rounds);
  CHECK(audits.load() > 0);
  CHECK(bad_audits.load() == 0);
  for (const auto& s : ps.slots)
    CHECK(s->holder.load() == 0);
}
