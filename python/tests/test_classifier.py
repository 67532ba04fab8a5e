"""efficientnet_libtorch.Classifier gives what `efficientnet-cli classify --json` gives on the sample photos, takes
paths, path-likes, numpy arrays and lists of them, reports stage timings, and reports bad input as typed errors."""
import json
import os
import pathlib
import subprocess
import time

import numpy
import pytest
from PIL import Image, ImageOps

import efficientnet_libtorch as enl
from conftest import SAMPLES_DIR as SAMPLES

TOPK = 5
PROBABILITY_TOLERANCE = 1e-6   # same core, same batch, same CPU: the numbers agree to float rounding


@pytest.fixture(scope="module")
def e2e_weights(reference_dir):
    # make_reference.py's end-to-end B0: planted top-6 logits for every sample photo, 1.0 apart, so the top-5 of a
    # correct pipeline is unambiguous.
    return os.path.join(reference_dir, "e2e_b0.pth")


@pytest.fixture(scope="module")
def classifier(e2e_weights):
    return enl.Classifier("efficientnet_b0", e2e_weights, device="cpu")


def cli_classify(cli, weights, photos):
    command = [cli, "classify", "--model", "efficientnet_b0", "--weights", weights, "--device", "cpu",
               "--topk", str(TOPK), "--json", "--no-progress"] + photos
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), seconds


def pil_rgb(path):
    return numpy.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))


def test_classify_equals_the_console_tool_on_the_sample_photos(cli, e2e_weights, sample_photos, record):
    document, cli_seconds = cli_classify(cli, e2e_weights, sample_photos)
    start = time.perf_counter()
    classifier = enl.Classifier("efficientnet_b0", e2e_weights, device="cpu")
    loaded = time.perf_counter()
    result = classifier.classify(sample_photos, topk=TOPK)
    done = time.perf_counter()
    assert isinstance(result, enl.BatchClassification)
    assert [r["path"] for r in document["results"]] == sample_photos
    max_difference = 0.0
    for expected, got in zip(document["results"], result.predictions):
        assert expected["error"] is None
        assert [(p["index"], p["label"]) for p in expected["predictions"]] == [(p.index, p.label) for p in got]
        for p, q in zip(expected["predictions"], got):
            max_difference = max(max_difference, abs(p["probability"] - q.probability))
    assert max_difference <= PROBABILITY_TOLERANCE
    record("Classifier.classify vs efficientnet-cli classify --json, %d sample photos, CPU" % len(sample_photos),
           "same top-%d classes and labels, max |probability difference| %.2g; wall time: CLI process %.2f s, "
           "Classifier() %.2f s + classify() %.3f s (stages: %s)"
           % (TOPK, max_difference, cli_seconds, loaded - start, done - loaded,
              ", ".join("%s %.1f ms" % (k, v) for k, v in result.times._asdict().items())))


def test_one_image_as_path_pathlike_or_array_gives_the_same_classes(classifier, sample_photos):
    photo = sample_photos[1]
    by_path = classifier.classify(photo)
    assert isinstance(by_path, enl.Classification) and len(by_path.predictions) == TOPK
    assert by_path.predictions == classifier.classify(pathlib.Path(photo)).predictions
    pixels = pil_rgb(photo)
    by_array = classifier.classify(pixels)
    assert [p.index for p in by_array.predictions] == [p.index for p in by_path.predictions]
    for p, q in zip(by_array.predictions, by_path.predictions):   # PIL's and OpenCV's JPEG decoders may differ a bit
        assert abs(p.probability - q.probability) < 1e-2
    assert by_array.times.decode_ms == 0 and by_path.times.decode_ms > 0
    # A strided view (every other column) is taken as it is, and a batch of arrays works as one of paths.
    assert len(classifier.classify([pixels[:, ::2], pixels]).predictions) == 2


def test_a_batch_equals_its_images_one_by_one(classifier, sample_photos):
    batch = classifier.classify(tuple(sample_photos), topk=3)
    for photo, predictions in zip(sample_photos, batch.predictions):
        single = classifier.classify(photo, topk=3).predictions
        assert [p.index for p in single] == [p.index for p in predictions]
        assert max(abs(p.probability - q.probability) for p, q in zip(single, predictions)) < 1e-5
    assert classifier.classify([]).predictions == []


def test_stage_timings_are_reported(classifier, sample_photos):
    times = classifier.classify(sample_photos[0]).times
    assert isinstance(times, enl.StageTimes)
    assert times.forward_ms > 0 and times.preprocess_ms > 0 and times.upload_ms == 0   # CPU: nothing uploaded
    assert times.total_ms == pytest.approx(sum(times))


def test_what_was_loaded_is_described(classifier, e2e_weights):
    info = classifier.info
    assert (info["model"], info["classes"], info["keys"]) == ("efficientnet_b0", 1000, "torchvision")
    assert info["labels"][:2] == ["tench", "goldfish"] and info["labels_origin"] == "ImageNet-1k"
    assert (info["transform"]["crop"], info["transform"]["resize"]) == (224, 256)
    assert (classifier.device, classifier.precision, classifier.input_size) == ("cpu", "fp32", 224)
    assert e2e_weights in classifier.weights


def test_bad_input_is_reported_with_its_type(classifier, tmp_path, sample_photos):
    missing = str(tmp_path / "missing.jpg")
    with pytest.raises(enl.ImageError, match="missing.jpg") as error:
        classifier.classify([sample_photos[0], missing])
    assert error.value.path == missing and isinstance(error.value, ValueError)
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("not a photo")
    with pytest.raises(enl.ImageError, match="notes.jpg"):
        classifier.classify(not_an_image)
    with pytest.raises(TypeError, match="uint8"):
        classifier.classify(numpy.zeros((32, 32, 3), dtype=numpy.float32))
    with pytest.raises(ValueError, match="height, width, 3"):
        classifier.classify(numpy.zeros((32, 32), dtype=numpy.uint8))
    with pytest.raises(TypeError, match="image 0"):
        classifier.classify(42)
    with pytest.raises(ValueError, match="topk"):
        classifier.classify(sample_photos[0], topk=0)


def test_settings_that_cannot_work_are_config_errors(e2e_weights, tmp_path, monkeypatch):
    with pytest.raises(enl.ConfigError, match="unknown device"):
        enl.Classifier("efficientnet_b0", e2e_weights, device="tpu")
    with pytest.raises(enl.ConfigError, match="efficientnet_b9"):
        enl.Classifier("efficientnet_b9", e2e_weights)
    with pytest.raises(enl.ConfigError, match="is an efficientnet_b0 checkpoint"):
        enl.Classifier("efficientnet_b3", e2e_weights)   # a B0 file: the file tells, and the model asked for is wrong
    # No weights given and none cached: an error that says what to do, never silently random weights.
    monkeypatch.setenv("EFFICIENTNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(enl.ConfigError, match="random_weights=True"):
        enl.Classifier("efficientnet_b0")
    random = enl.Classifier("efficientnet_b0", random_weights=True, device="cpu")
    assert "random" in random.weights


def test_cuda_classifier_gives_the_cpu_classes(e2e_weights, cuda):
    # Pixels decoded by PIL, so that this runs on GPU machines whose build has no OpenCV.
    photos = sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES) if f.endswith(".jpg"))
    pixels = [pil_rgb(photo) for photo in photos]
    cpu = enl.Classifier("efficientnet_b0", e2e_weights, device="cpu").classify(pixels)
    gpu = enl.Classifier("efficientnet_b0", e2e_weights, device="cuda", precision="fp32")
    assert gpu.device.startswith("cuda")
    on_gpu = gpu.classify(pixels)
    assert on_gpu.times.upload_ms > 0
    for a, b in zip(cpu.predictions, on_gpu.predictions):
        assert [p.index for p in a] == [p.index for p in b]
        assert max(abs(p.probability - q.probability) for p, q in zip(a, b)) < 1e-2
