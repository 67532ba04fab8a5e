#pragma once
// Text that came from a file a stranger may have written (a tensor name, a pickle global, a key, a label, a file
// name found in a folder) is escaped before it is shown in a message or a terminal.
#include <cstddef>
#include <string>
#include <string_view>

namespace efficientnet {

// `text` as it may be printed: valid UTF-8 stays; control characters (C0, DEL, C1), bidirectional-override
// characters and bytes that are not UTF-8 become \n, \t, \xNN or \u{NNNN}; longer than maxBytes it is cut, saying
// how much was left out. Backslashes stay as they are (Windows paths), so escaping twice changes nothing.
std::string printable(std::string_view text, std::size_t maxBytes = 120);

// "512 bytes", "3.2 MB", "1.0 GB": sizes in messages.
std::string describeBytes(unsigned long long bytes);

} // namespace efficientnet
