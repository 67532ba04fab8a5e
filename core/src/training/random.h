#pragma once
// The training's one source of randomness on the host (split, shuffling, augmentation): mt19937_64, whose sequence
// the C++ standard fixes, turned into numbers by hand because std::uniform_*_distribution differ between standard
// libraries. Same seed, same numbers, on every platform.
#include <cstdint>
#include <random>

namespace efficientnet::training {

class Random {
public:
    explicit Random(std::uint64_t seed) : m_engine(seed) {}
    double uniform() { return static_cast<double>(m_engine() >> 11) * 0x1.0p-53; }   // [0, 1)
    double uniform(double low, double high) { return low + (high - low) * uniform(); }
    // [0, n), n > 0
    std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)); }
    template <typename T> void shuffle(T& items)   // Fisher-Yates
    {
        for (std::size_t i = items.size(); i > 1; --i)
            std::swap(items[i - 1], items[below(i)]);
    }

private:
    std::mt19937_64 m_engine;
};

} // namespace efficientnet::training
