#pragma once
// A small line plot of a training run (Teach mode): training loss per reported step and validation accuracy per
// epoch, drawn with QPainter (no QtCharts dependency). Loss is scaled to its own maximum, accuracy to [0, 1].
#include <QVector>
#include <QWidget>

namespace efficientnet::ui {

class TrainingPlot : public QWidget {
    Q_OBJECT

public:
    explicit TrainingPlot(QWidget* parent = nullptr);

    void clear();
    // x is the position in epochs (2.5: half way through the third epoch).
    void addLoss(double x, double loss);
    void addAccuracy(double epoch, double accuracy);
    void setEpochs(int epochs);

    int lossPoints() const { return static_cast<int>(m_loss.size()); }
    int accuracyPoints() const { return static_cast<int>(m_accuracy.size()); }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QVector<QPointF> m_loss;
    QVector<QPointF> m_accuracy;
    int m_epochs = 1;
};

} // namespace efficientnet::ui
