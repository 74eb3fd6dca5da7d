#pragma once

#include <cstddef>
#include <new>
#include <utility>
#include <vector>

namespace otkv {

/// A FIFO queue on one growable power-of-two array: push at the back, pop at the
/// front, index from the front. Unlike std::deque it allocates only when it grows,
/// so a connection's steady stream of reply slots costs no allocation.
template <class T>
class ring_buffer {
public:
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const T& operator[](size_t i) const { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  T& front() { return (*this)[0]; }

  /// Appends a default-constructed element and returns it (a slot is reset when it is
  /// popped, so it is default-constructed already).
  T& emplace_back() {
    if (size_ == slots_.size())
      grow();
    return (*this)[size_++];
  }

  /// Removes the front element (its slot is default-constructed again, for reuse).
  void pop_front() {
    T& slot = front();
    slot.~T();
    new (&slot) T();
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }

  /// Removes every element.
  void clear() {
    while (!empty())
      pop_front();
  }

private:
  void grow() {
    std::vector<T> bigger(slots_.empty() ? 8 : slots_.size() * 2);
    for (size_t i = 0; i < size_; ++i)
      bigger[i] = std::move((*this)[i]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

} // namespace otkv
