#include "efficientnet/release_memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace efficientnet::platform {

void releaseFreeMemory()
{
#if defined(__GLIBC__)
    malloc_trim(0);   // since glibc 2.8 it also releases free pages inside every arena, not only at the heap's top
#endif
}

} // namespace efficientnet::platform
