#pragma once
// Train-time augmentation on 8-bit RGB, ending where the eval transform's pixels end (a crop of cropSize x
// cropSize), so that the same normalisation follows: torchvision's RandomResizedCrop (its sampling of area and
// aspect ratio, with fallback to a centre crop) resized as Pillow resizes, a horizontal flip with probability 0.5,
// and a mild colour jitter (torchvision's ColorJitter: brightness, contrast, saturation and hue, applied in that fixed
// order where ColorJitter draws a random one). Torch-free.
#include <cstdint>
#include <vector>

#include "efficientnet/imaging.h"
#include "efficientnet/variants.h"
#include "training/random.h"

namespace efficientnet::training {

struct AugmentSettings {
    double minScale = 0.25;       // of the image's area; torchvision's 0.08 often cuts a small object out of view
    double maxScale = 1.0;
    double minRatio = 3.0 / 4.0;  // aspect ratio (width / height), sampled log-uniformly as torchvision does
    double maxRatio = 4.0 / 3.0;
    double flipProbability = 0.5;
    double brightness = 0.1;      // factors uniform in [1 - x, 1 + x]
    double contrast = 0.1;
    double saturation = 0.1;
    double hue = 0.02;            // a shift uniform in [-x, x] of the hue circle (1 = 360 degrees), x <= 0.5
};

// The crop's region in the image (torchvision RandomResizedCrop.get_params).
struct Region {
    int left, top, width, height;
};
Region randomResizedCropRegion(int width, int height, const AugmentSettings& settings, Random& random);

// cropSize x cropSize RGB bytes (HWC), ready for normalisation with `preprocessing`'s mean and std.
std::vector<std::uint8_t> augment(const Image& image, const Preprocessing& preprocessing,
                                  const AugmentSettings& settings, Random& random);

// ColorJitter's saturation (torchvision adjust_saturation): each pixel blended with its grey (ITU-R 601-2 luma) as
// grey + factor * (pixel - grey); 0 makes the image grey, 1 leaves it. RGB bytes, HWC, in place.
void adjustSaturation(std::vector<std::uint8_t>& rgb, double factor);
// ColorJitter's hue (torchvision adjust_hue): the hue of every pixel in HSV turned by `shift` of the full circle,
// saturation and value kept; greys stay. RGB bytes, HWC, in place.
void adjustHue(std::vector<std::uint8_t>& rgb, double shift);

// An image no larger than needed: the shorter side at most `shorterSide` (Pillow's resize), for keeping decoded
// training photos in memory.
Image shrinkToShorterSide(const Image& image, int shorterSide);

} // namespace efficientnet::training
