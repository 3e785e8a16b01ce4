"""GGNet demo: detect HOI triplets in images or a video, draw them and write them as JSON.

Modelled on detectron2's demo/demo.py. Examples::

    python demo/demo.py --config-file configs/GGNet_DLA34_HICO.yaml --input photos/ --output out/ \
        --confidence-threshold 0.3 --show-actpoints --opts MODEL.WEIGHTS model_final.pth
    python demo/demo.py --config-file ... --video-input clip.mp4 --output out/
    python demo/demo.py --backend onnxruntime --model-dir exported/ --input photos/ --output out/

Backends: ``pytorch`` (the config's model and MODEL.WEIGHTS), ``onnxruntime`` / ``torchscript`` (an export folder of
tools/deploy/export_model.py, run by ``ggnet_d2.deploy.runtime``; ``--config-file`` is not needed).

Per image it writes ``<output>/<name>`` (the drawing) and ``<output>/<stem>.json`` (the image's prediction entry);
``<output>/predictions.json`` lists the entries of all images: the prediction format of docs/interfaces.md
({file_name, predictions, hoi_prediction}, ids in the dataset file's id space, every triplet whatever
``--confidence-threshold``, which only selects what is drawn), so ``tools/evaluate_hoi.py`` scores it. Per video,
``<output>/<stem>.mp4`` and ``<output>/<stem>.json``, one entry per frame (``file_name`` ``<stem>_<frame:06d>``).
Without ``--output`` the entries are printed as one JSON list.
"""
import argparse
import glob
import json
import logging
import os
import sys
import time
from pathlib import Path

import cv2
import tqdm
from detectron2.utils.logger import setup_logger

sys.path.insert(0, str(Path(__file__).resolve().parent))
from predictor import BACKENDS, VisualizationDemo  # noqa: E402

from ggnet_d2.data.image_io import read_image  # noqa: E402 -- the training/test reader (EXIF, 16-bit, alpha)
from ggnet_d2.engine import setup_cfg as setup_ggnet_cfg  # noqa: E402

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def setup_cfg(args):
    """Config from ``--config-file`` and ``--opts`` (``ggnet_d2.engine.setup_cfg``: CPU when CUDA is absent, the
    config's own datasets registered)."""
    return setup_ggnet_cfg(args.config_file, args.opts)


def get_parser():
    parser = argparse.ArgumentParser(description="GGNet HOI detection demo")
    parser.add_argument("--config-file", metavar="FILE", help="path to a GGNet config file (backend pytorch)")
    parser.add_argument("--backend", choices=BACKENDS, default="pytorch",
                        help="pytorch: the config's model; onnxruntime / torchscript: the export in --model-dir")
    parser.add_argument("--model-dir", metavar="DIR",
                        help="export folder of tools/deploy/export_model.py (backends onnxruntime, torchscript)")
    parser.add_argument("--input", nargs="+", help="image files, directories or glob patterns ('photos/*.jpg')")
    parser.add_argument("--video-input", help="a video file")
    parser.add_argument("--output", help="output folder (or an image file name for a single input image)")
    parser.add_argument("--confidence-threshold", type=float, default=0.5,
                        help="minimal score of a drawn triplet (the JSON keeps every triplet)")
    parser.add_argument("--show-actpoints", action="store_true",
                        help="draw each triplet's interaction point and its ActPoints coloured by weight")
    parser.add_argument("--opts", default=[], nargs=argparse.REMAINDER, help="config overrides: KEY VALUE pairs")
    return parser


def expand_inputs(patterns):
    """Image paths from files, directories (their images, sorted) and glob patterns, in the given order.

    Raises:
        FileNotFoundError: a pattern matches no image.
    """
    paths = []
    for pattern in patterns:
        if os.path.isdir(pattern):
            found = sorted(str(p) for p in Path(pattern).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        elif os.path.isfile(pattern):
            found = [pattern]
        else:
            found = sorted(p for p in glob.glob(os.path.expanduser(pattern)) if os.path.isfile(p))
        if not found:
            raise FileNotFoundError(f"--input {pattern!r}: no image file found")
        paths += found
    return paths


def _output_paths(output, path, several):
    """(image path, json path) for one input image."""
    if not several and Path(output).suffix.lower() in IMAGE_EXTENSIONS:
        out = Path(output)
    else:
        out = Path(output) / Path(path).name
    return out, out.with_suffix(".json")


def run_images(demo, paths, output, logger):
    """Run the demo on each image; an image that cannot be read is skipped with a warning naming it.

    Returns:
        list[dict]: the prediction entries of the images read (also written, see the module docstring).
    """
    skipped, entries = [], []
    for path in tqdm.tqdm(paths, disable=output is None, desc="images"):
        try:
            img = read_image(path, format="BGR")
        except (OSError, ValueError, SyntaxError) as e:  # PIL: unreadable, truncated or not an image
            logger.warning(f"{path}: skipped, the image cannot be read ({type(e).__name__}: {e})")
            skipped.append(path)
            continue
        start = time.time()
        _, vis, entry = demo.run_on_image(img, file_name=path)
        logger.info(f"{path}: {len(entry['hoi_prediction'])} HOI triplets in {time.time() - start:.2f}s")
        entries.append(entry)
        if output is None:
            continue
        img_out, json_out = _output_paths(output, path, len(paths) > 1)
        img_out.parent.mkdir(parents=True, exist_ok=True)
        vis.save(str(img_out))
        json_out.write_text(json.dumps(entry, indent=1))
    if skipped:
        logger.warning(f"skipped {len(skipped)} of {len(paths)} input images that cannot be read: {skipped}")
    if output is None:
        print(json.dumps(entries))
    elif entries:
        folder = Path(output) if len(paths) > 1 or Path(output).suffix.lower() not in IMAGE_EXTENSIONS else \
            Path(output).parent
        (folder / "predictions.json").write_text(json.dumps(entries))
    return entries


def run_video(demo, video_path, output):
    video = cv2.VideoCapture(video_path)
    if not video.isOpened():
        raise FileNotFoundError(f"--video-input {video_path!r}: cannot be opened")
    width, height = int(video.get(cv2.CAP_PROP_FRAME_WIDTH)), int(video.get(cv2.CAP_PROP_FRAME_HEIGHT))
    fps = video.get(cv2.CAP_PROP_FPS) or 25.0
    num_frames = int(video.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    writer, entries, out_dir = None, [], None
    stem = Path(video_path).stem
    if output is not None:
        out_dir = Path(output)
        out_dir.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(out_dir / (stem + ".mp4")), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                 (width, height))
    try:
        for frame, entry in tqdm.tqdm(demo.run_on_video(video, stem), total=num_frames, desc="frames"):
            entries.append(entry)
            if writer is not None:
                writer.write(frame)
    finally:
        video.release()
        if writer is not None:
            writer.release()
    if out_dir is None:
        print(json.dumps(entries))
    else:
        (out_dir / (stem + ".json")).write_text(json.dumps(entries))


def main(argv=None):
    """Entry point; ``argv`` as for argparse (None: ``sys.argv[1:]``)."""
    args = get_parser().parse_args(argv)
    setup_logger(name="fvcore")
    setup_logger(name="ggnet_d2")
    logger = setup_logger()
    logger.info("Arguments: " + str(args))
    if bool(args.input) == bool(args.video_input):
        raise SystemExit("give exactly one of --input and --video-input")
    if args.backend == "pytorch" and not args.config_file:
        raise SystemExit("--backend pytorch needs --config-file")
    if args.backend != "pytorch" and not args.model_dir:
        raise SystemExit(f"--backend {args.backend} needs --model-dir (an export folder of "
                         "tools/deploy/export_model.py)")
    cfg = setup_cfg(args) if args.backend == "pytorch" else None
    demo = VisualizationDemo(cfg, args.confidence_threshold, args.show_actpoints, args.backend, args.model_dir)
    if args.input:
        run_images(demo, expand_inputs(args.input), args.output, logger)
    else:
        run_video(demo, args.video_input, args.output)


if __name__ == "__main__":
    logging.captureWarnings(True)
    main()
