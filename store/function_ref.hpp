#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace otkv::store {

template <class Signature>
class function_ref;

/// A non-owning reference to a callable, for visitor parameters: unlike std::function it
/// never allocates. It must not outlive the callable it refers to (pass it down, never
/// keep it).
template <class R, class... Args>
class function_ref<R(Args...)> {
public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, function_ref>>>
  function_ref(F&& f) noexcept // NOLINT(google-explicit-constructor): used as a parameter
    : callable_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
      call_([](void* callable, Args... args) -> R {
        return (*static_cast<std::remove_reference_t<F>*>(callable))(
          std::forward<Args>(args)...);
      }) {}

  /// Calls the callable.
  R operator()(Args... args) const { return call_(callable_, std::forward<Args>(args)...); }

private:
  void* callable_;
  R (*call_)(void*, Args...);
};

} // namespace otkv::store
