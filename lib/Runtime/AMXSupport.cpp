//===- AMXSupport.cpp - whether AMX-INT8 tiles may be used ----------------===//
//
// AMX needs three things: the CPU's AMX-TILE and AMX-INT8 (CPUID leaf 7,
// EDX bits 24 and 25), the OS saving the tile state (XCR0 bits 17 and 18),
// and, on Linux, the process's permission to use the tile data
// (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), asked once here;
// without it the first tile instruction faults). QUANTC_CPU_KERNELS caps
// it like every other path: any cap (avx512, avx2, generic) turns it off.
//
//===----------------------------------------------------------------------===//
#include "quantc/Runtime/Kernels.h"

#include <cstdlib>
#include <string>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace quantc::rt {

bool amxInt8Usable() {
  static const bool ok = [] {
#if defined(__x86_64__) && defined(__linux__)
    const char *cap = std::getenv("QUANTC_CPU_KERNELS");
    if (cap && *cap && std::string(cap) != "amx")
      return false;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 25)))
      return false;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) // OSXSAVE
      return false;
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & (3u << 17)) != (3u << 17))
      return false;
    constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
  }();
  return ok;
}

} // namespace quantc::rt
