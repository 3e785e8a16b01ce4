"""GGNet demo: detect HOI triplets in images or a video, draw them and write them as JSON.

Modelled on detectron2's demo/demo.py. Examples::

    python demo/demo.py --config-file configs/GGNet_DLA34_HICO.yaml --input photos/ --output out/ \
        --confidence-threshold 0.3 --show-actpoints --opts MODEL.WEIGHTS model_final.pth
    python demo/demo.py --config-file ... --video-input clip.mp4 --output out/

Per image it writes ``<output>/<name>`` (the drawing) and ``<output>/<stem>.json`` ({file_name, height, width,
hoi: [triplets of ggnet_d2.utils.visualizer.hoi_instances_to_json]}); per video, ``<output>/<stem>.mp4`` and one
JSON with a ``frames`` list. Without ``--output`` the triplets are printed as JSON.
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
from predictor import VisualizationDemo  # noqa: E402

from ggnet_d2.data.image_io import read_image  # noqa: E402 -- the training/test reader (EXIF, 16-bit, alpha)
from ggnet_d2.engine import setup_cfg as setup_ggnet_cfg  # noqa: E402

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def setup_cfg(args):
    """Config from ``--config-file`` and ``--opts`` (``ggnet_d2.engine.setup_cfg``: CPU when CUDA is absent, the
    config's own datasets registered)."""
    return setup_ggnet_cfg(args.config_file, args.opts)


def get_parser():
    parser = argparse.ArgumentParser(description="GGNet HOI detection demo")
    parser.add_argument("--config-file", required=True, metavar="FILE", help="path to a GGNet config file")
    parser.add_argument("--input", nargs="+", help="image files, directories or glob patterns ('photos/*.jpg')")
    parser.add_argument("--video-input", help="a video file")
    parser.add_argument("--output", help="output folder (or an image file name for a single input image)")
    parser.add_argument("--confidence-threshold", type=float, default=0.5, help="minimal triplet score to show")
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
        list[str]: the skipped paths.
    """
    skipped = []
    for path in tqdm.tqdm(paths, disable=output is None, desc="images"):
        try:
            img = read_image(path, format="BGR")
        except (OSError, ValueError, SyntaxError) as e:  # PIL: unreadable, truncated or not an image
            logger.warning(f"{path}: skipped, the image cannot be read ({type(e).__name__}: {e})")
            skipped.append(path)
            continue
        start = time.time()
        _, vis, triplets = demo.run_on_image(img, file_name=path)
        logger.info(f"{path}: {len(triplets)} HOI triplets in {time.time() - start:.2f}s")
        record = {"file_name": path, "height": img.shape[0], "width": img.shape[1], "hoi": triplets}
        if output is None:
            print(json.dumps(record))
            continue
        img_out, json_out = _output_paths(output, path, len(paths) > 1)
        img_out.parent.mkdir(parents=True, exist_ok=True)
        vis.save(str(img_out))
        json_out.write_text(json.dumps(record, indent=1))
    if skipped:
        logger.warning(f"skipped {len(skipped)} of {len(paths)} input images that cannot be read: {skipped}")
    return skipped


def run_video(demo, video_path, output):
    video = cv2.VideoCapture(video_path)
    if not video.isOpened():
        raise FileNotFoundError(f"--video-input {video_path!r}: cannot be opened")
    width, height = int(video.get(cv2.CAP_PROP_FRAME_WIDTH)), int(video.get(cv2.CAP_PROP_FRAME_HEIGHT))
    fps = video.get(cv2.CAP_PROP_FPS) or 25.0
    num_frames = int(video.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    writer, frames, out_dir = None, [], None
    if output is not None:
        out_dir = Path(output)
        out_dir.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(out_dir / (Path(video_path).stem + ".mp4")),
                                 cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    try:
        for i, (frame, triplets) in enumerate(tqdm.tqdm(demo.run_on_video(video), total=num_frames, desc="frames")):
            frames.append({"frame": i, "hoi": triplets})
            if writer is not None:
                writer.write(frame)
    finally:
        video.release()
        if writer is not None:
            writer.release()
    record = {"file_name": video_path, "height": height, "width": width, "frames": frames}
    if out_dir is None:
        print(json.dumps(record))
    else:
        (out_dir / (Path(video_path).stem + ".json")).write_text(json.dumps(record))


def main(argv=None):
    """Entry point; ``argv`` as for argparse (None: ``sys.argv[1:]``)."""
    args = get_parser().parse_args(argv)
    setup_logger(name="fvcore")
    setup_logger(name="ggnet_d2")
    logger = setup_logger()
    logger.info("Arguments: " + str(args))
    if bool(args.input) == bool(args.video_input):
        raise SystemExit("give exactly one of --input and --video-input")
    cfg = setup_cfg(args)
    demo = VisualizationDemo(cfg, args.confidence_threshold, args.show_actpoints)
    if args.input:
        run_images(demo, expand_inputs(args.input), args.output, logger)
    else:
        run_video(demo, args.video_input, args.output)


if __name__ == "__main__":
    logging.captureWarnings(True)
    main()
