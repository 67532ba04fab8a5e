// Live-score smoothing: steady input converges to itself, a one-frame flicker does not take the top, a class that
// really changes takes over within a few frames, the newest frame's classes are always listed, and reset forgets the
// previous session.
#include <QtTest/QtTest>

#include "score_smoother.h"

using efficientnet::Prediction;
using efficientnet::desktop::ScoreSmoother;

namespace {

std::vector<Prediction> frame(std::initializer_list<std::pair<int, float>> scores)
{
    std::vector<Prediction> predictions;
    for (const auto& [index, p] : scores)
        predictions.push_back({index, "class " + std::to_string(index), p});
    return predictions;
}

} // namespace

class TestScoreSmoother : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void firstFrameIsTakenAsItIs()
    {
        ScoreSmoother s;
        const auto out = s.update(frame({{7, 0.6f}, {3, 0.3f}}));
        QCOMPARE(out.size(), size_t(2));
        QCOMPARE(out[0].index, 7);
        QCOMPARE(out[0].probability, 0.6f);
        QCOMPARE(out[0].label, std::string("class 7"));
    }

    void steadyInputConvergesToItself()
    {
        ScoreSmoother s;
        std::vector<Prediction> out;
        for (int i = 0; i < 30; ++i)
            out = s.update(frame({{1, 0.7f}, {2, 0.2f}}));
        QVERIFY(qAbs(out[0].probability - 0.7f) < 1e-4f);
        QVERIFY(qAbs(out[1].probability - 0.2f) < 1e-4f);
    }

    void aOneFrameFlickerDoesNotTakeTheTop()
    {
        ScoreSmoother s;
        for (int i = 0; i < 10; ++i)
            s.update(frame({{1, 0.6f}, {2, 0.3f}}));
        const auto out = s.update(frame({{9, 0.9f}, {1, 0.05f}}));
        QCOMPARE(out[0].index, 1);
        // Without smoothing the flicker would have been first.
        QVERIFY(out[0].probability > 0.3f);
    }

    void aRealChangeTakesOverWithinAFewFrames()
    {
        ScoreSmoother s;
        for (int i = 0; i < 10; ++i)
            s.update(frame({{1, 0.8f}}));
        int framesToTakeOver = 0;
        for (; framesToTakeOver < 10; ++framesToTakeOver)
            if (s.update(frame({{5, 0.8f}}))[0].index == 5)
                break;
        QVERIFY2(framesToTakeOver >= 1 && framesToTakeOver <= 4, qPrintable(QString::number(framesToTakeOver)));
    }

    void theFramesOwnClassesAreAlwaysListed()
    {
        // A confident frame of a 5-class model: the classes it lists at under 1e-4 stay listed, as they are without
        // smoothing (the app showed 3 rows of 5 with top-k 10), while an unlisted class that decayed is forgotten.
        ScoreSmoother s;
        s.update(frame({{4, 0.99f}, {0, 0.01f}}));
        for (int i = 0; i < 30; ++i) {
            const auto out = s.update(frame({{1, 0.9999f}, {2, 5e-5f}, {3, 4e-5f}, {4, 1e-5f}, {0, 5e-6f}}));
            QCOMPARE(out.size(), size_t(5));
            QCOMPARE(out[0].index, i == 0 ? 4 : 1);   // the new class takes the top on its second frame
        }
        const auto out = s.update(frame({{1, 0.9999f}, {2, 5e-5f}}));
        QCOMPARE(out.size(), size_t(2));   // 3, 4 and 0 decayed under 1e-4 unlisted: gone
    }

    void resetForgetsThePreviousSession()
    {
        ScoreSmoother s;
        s.update(frame({{1, 0.9f}}));
        s.reset();
        const auto out = s.update(frame({{2, 0.5f}}));
        QCOMPARE(out.size(), size_t(1));
        QCOMPARE(out[0].index, 2);
    }
};

QTEST_GUILESS_MAIN(TestScoreSmoother)
#include "test_score_smoother.moc"
