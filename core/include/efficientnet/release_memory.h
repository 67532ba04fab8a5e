#pragma once
// Part of the platform layer (core/src/platform/), in a header of its own so that the few callers do not rebuild
// with every change to platform.h.

namespace efficientnet::platform {

// Hands the heap memory the C library's allocator keeps but no longer uses back to the operating system. glibc keeps
// freed blocks inside its heaps and raises its mmap threshold after large frees, so a long run that decodes photos of
// many sizes on several threads sees its resident size climb in steps although nothing leaks (issue 9's soak: +20 %
// over 10,000 images). Called between batches; costs about a millisecond. Does nothing where there is no such call.
void releaseFreeMemory();

} // namespace efficientnet::platform
