// Whether this build runs under a sanitizer (ASan or TSan, GCC or clang). The sanitizer runs of
// make test look for memory and thread errors, which smaller histories find as well as big
// ones; the tests that write large histories size them down there and keep their full size in
// the ordinary build.
#pragma once

namespace malpro::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace malpro::testing
