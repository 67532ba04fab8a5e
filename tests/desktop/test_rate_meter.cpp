// The live rates (display and classified fps in the status bar): steady ticks read as their rate, bursty ticks as
// their mean rate (not as the mean of 1/interval, which read 188 "fps" from a 30 fps video), -1 until two ticks.
#include <QtTest/QtTest>

#include "live_controller.h"

using efficientnet::desktop::RateMeter;

namespace {

constexpr qint64 kMs = 1000000;   // ns

} // namespace

class TestRateMeter : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void unknownUntilTwoTicks()
    {
        RateMeter meter;
        QCOMPARE(meter.perSecond(), -1.0);
        meter.tick(1000 * kMs);
        QCOMPARE(meter.perSecond(), -1.0);
        meter.tick(1100 * kMs);
        QCOMPARE(meter.perSecond(), 10.0);
        meter.reset();
        QCOMPARE(meter.perSecond(), -1.0);
    }

    void steadyTicksReadAsTheirRate()
    {
        RateMeter meter;
        qint64 now = 5000 * kMs;
        for (int i = 0; i < 100; ++i, now += 40 * kMs)
            meter.tick(now);
        QCOMPARE(meter.perSecond(), 25.0);
    }

    // 30 results a second arriving in pairs 5 ms apart: the rate is 30, whatever the pairing.
    void burstyTicksReadAsTheirMeanRate()
    {
        RateMeter meter;
        qint64 now = 5000 * kMs;
        const qint64 gaps[] = {5 * kMs, 2 * 33333333 - 5 * kMs};
        for (int i = 0; i < 200; ++i) {
            meter.tick(now);
            now += gaps[i % 2];
        }
        const double rate = meter.perSecond();
        QVERIFY2(rate > 27 && rate < 33, qPrintable(QString("read %1 per second from 30 bursty ticks a second").arg(rate)));
    }

    void followsAChangeWithinASecondOrTwo()
    {
        RateMeter meter;
        qint64 now = 0;
        for (int i = 0; i < 100; ++i, now += 100 * kMs)   // 10 per second
            meter.tick(now);
        for (int i = 0; i < 60; ++i, now += 33333333)      // then 30 per second for 2 s
            meter.tick(now);
        QVERIFY2(meter.perSecond() > 28, qPrintable(QString::number(meter.perSecond())));
    }
};

QTEST_GUILESS_MAIN(TestRateMeter)
#include "test_rate_meter.moc"
