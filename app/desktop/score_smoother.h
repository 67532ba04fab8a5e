#pragma once
// Optional smoothing of live scores over frames (as jetson-inference's imagenet demo does), so that the top-k list
// stays steady while the camera jitters: an exponential moving average of each class's probability. A class a
// frame does not list (outside its top-k) decays as if its probability were 0, and is forgotten once that leaves it
// negligible; the classes the newest frame lists are always kept, so the list is never shorter than the frame's.
// Scores are by class index, which means nothing across models: the owner resets it when the model changes.
#include <map>
#include <vector>

#include "efficientnet/classifier.h"

namespace efficientnet::desktop {

class ScoreSmoother {
public:
    static constexpr double kDefaultWeight = 0.3;   // of the newest frame: a class needs ~3 frames to take over

    explicit ScoreSmoother(double newestWeight = kDefaultWeight) : m_weight(newestWeight) {}

    // Folds in one frame's predictions; returns the smoothed scores of every tracked class, highest first.
    std::vector<Prediction> update(const std::vector<Prediction>& frame);
    void reset() { m_scores.clear(); }

private:
    static constexpr float kForgetBelow = 1e-4f;   // unlisted classes whose smoothed score fell this low are dropped

    double m_weight;
    std::map<int, Prediction> m_scores;   // by class index
};

} // namespace efficientnet::desktop
