#pragma once
// One rule for every checkpoint reader: whatever LibTorch or the allocator throws inside it becomes a CheckpointError
// naming the file and the problem, never a bare c10::Error with a C++ backtrace.
#include <new>
#include <stdexcept>
#include <string>

#include <c10/util/Exception.h>

#include "common/untrusted.h"
#include "efficientnet/errors.h"

namespace efficientnet {

// Runs read(); converts what a check in the readers did not anticipate.
template <typename Read>
auto guardedRead(const std::string& path, Read read)
{
    try {
        return read();
    } catch (const CheckpointError&) {
        throw;
    } catch (const c10::Error& error) {
        std::string message = error.what_without_backtrace();
        message = message.substr(0, message.find('\n'));
        throw CheckpointError(path, "cannot be read: LibTorch refused its contents (" + printable(message, 200) +
                                    ") — the file is corrupt");
    } catch (const std::bad_alloc&) {
        throw CheckpointError(path, "cannot be read: it needs more memory than is available");
    } catch (const std::length_error&) {
        throw CheckpointError(path, "cannot be read: it declares an impossible size — the file is corrupt");
    }
}

} // namespace efficientnet
