#pragma once
// Decoding a list of image files ahead of their use: decoder threads read and decode the files in order into a bounded
// window while the caller takes them, in order, as its model gets to them. Used by the console tool's batches and
// the desktop app's folders, so that decoding overlaps inference and, where the model runs on a GPU, uses the cores.
// (Built with decoding, i.e. with OpenCV.)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "efficientnet/imaging.h"

namespace efficientnet {

class DecodeAhead {
public:
    struct Decoded {
        Image image;
        std::vector<std::uint8_t> jpeg;   // with jpegsUndecoded: a JPEG file's bytes, not decoded (the image is empty)
        std::string error;      // decodeImageFile's message; the image is empty then
        double decodeMs = 0;    // reading only, for an undecoded JPEG
    };

    // Starts `threads` decoders (at least one) that keep at most `window` decoded files (at least one) not yet taken.
    // jpegsUndecoded: files that start like a JPEG are read but not decoded, for a GPU decoder.
    DecodeAhead(std::vector<std::string> files, std::size_t window, int threads, bool jpegsUndecoded = false);
    // Stops the decoders and joins them (one still decoding finishes its file first).
    ~DecodeAhead();
    DecodeAhead(const DecodeAhead&) = delete;
    DecodeAhead& operator=(const DecodeAhead&) = delete;

    // The next `count` files, fewer at the end of the list, in the list's order; waits until they are decoded.
    std::vector<Decoded> take(std::size_t count);
    std::size_t remaining() const;

private:
    struct State;
    std::unique_ptr<State> m_state;
    std::vector<std::thread> m_threads;
};

} // namespace efficientnet
