#include "score_smoother.h"

#include <algorithm>

namespace efficientnet::desktop {

std::vector<Prediction> ScoreSmoother::update(const std::vector<Prediction>& frame)
{
    const bool first = m_scores.empty();
    for (auto& [index, p] : m_scores)
        p.probability *= static_cast<float>(1.0 - m_weight);
    for (const auto& p : frame) {
        auto [it, inserted] = m_scores.try_emplace(p.index, Prediction{p.index, p.label, 0.0f});
        // The first frame of a session is taken as it is, not faded in from nothing.
        it->second.probability += first ? p.probability : static_cast<float>(m_weight) * p.probability;
    }
    const auto listed = [&frame](int index) {
        return std::any_of(frame.begin(), frame.end(), [index](const Prediction& p) { return p.index == index; });
    };
    std::vector<Prediction> sorted;
    for (auto it = m_scores.begin(); it != m_scores.end();) {
        if (it->second.probability < kForgetBelow && !listed(it->first)) {
            it = m_scores.erase(it);
            continue;
        }
        sorted.push_back(it->second);
        ++it;
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const Prediction& a, const Prediction& b) { return a.probability > b.probability; });
    return sorted;
}

} // namespace efficientnet::desktop
