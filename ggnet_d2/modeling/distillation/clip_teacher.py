"""The frozen CLIP teacher of the distillation: soft verb targets of annotated human-object pairs.

EoID (Wu et al., AAAI 2023), github.com/mrwu-mac/EoID ``models/EoID.py`` at commit
7212a557d6d1dbf5d99c90de6b813e38645e7dc8: ``SetCriterionHOI.loss_verb_labels`` (lines 275-340) crops the union box
of each matched pair from the original image, pads it to a square with black (``expand2square``, lines 145-156:
the crop centred, padding split on both sides), applies CLIP's preprocessing (bicubic resize to the model's input
side, ``prepocess`` lines 135-142, with OpenAI CLIP's mean/std), scores the normalised image feature against the
normalised HOI text features with CLIP's logit scale, masks the HOI classes of other objects, takes the softmax
and reads each verb's probability as that of its HOI class with the pair's object (``MAP_AO_TO_HOI``); verbs
without such a class get 0. This module does the same with an open_clip model; it never trains (no gradient, eval
mode, not a sub-module of GGNet, so it is neither in the optimizer nor in checkpoints).
"""
import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["ClipTeacher"]




class ClipTeacher:
    """Soft verb targets from a frozen CLIP image encoder (module docstring).

    Args:
        clip_model (nn.Module): an open_clip CLIP (``encode_image``, ``logit_scale``); frozen here.
        image_mean, image_std (sequence of 3 floats): RGB statistics, 0-1 scale.
        hoi_embeddings (array (N, D)): text embeddings of the N HOI classes (normalised here).
        hoi_classes (array (N, 2)): (verb, object) of each.
        num_verbs (int): V.
        image_size (int): the encoder's input side (224 for ViT-B/32).
        temperature (float): multiplies the cosines; <= 0 = the model's own ``logit_scale.exp()`` (EoID).
        cache (bool): keep each (image, pair) result in memory (the crops come from the unaugmented image).

    Raises:
        ValueError: embeddings and classes of different lengths, or a dimension other than the encoder's.
    """

    def __init__(self, clip_model, image_mean, image_std, hoi_embeddings, hoi_classes, num_verbs, image_size=224,
                 temperature=0.0, cache=True):
        self.model = clip_model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.device = next(self.model.parameters()).device
        emb = torch.as_tensor(np.asarray(hoi_embeddings), dtype=torch.float32, device=self.device)
        classes = torch.as_tensor(np.asarray(hoi_classes), dtype=torch.int64, device=self.device).reshape(-1, 2)
        if emb.ndim != 2 or len(emb) != len(classes) or not len(emb):
            raise ValueError(f"HOI text embeddings {tuple(emb.shape)} and HOI classes {tuple(classes.shape)} disagree")
        self.text = F.normalize(emb, dim=1)
        self.hoi_verb, self.hoi_object = classes[:, 0], classes[:, 1]
        self.num_verbs, self.image_size = num_verbs, image_size
        self.mean = torch.tensor(image_mean, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(image_std, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        self.temperature = float(temperature) if temperature and temperature > 0 else float(
            self.model.logit_scale.exp())
        self.cache = {} if cache else None

    @torch.no_grad()
    def encode_crops(self, crops):
        """(P, S, S, 3) uint8 RGB -> (P, D) L2-normalised image features."""
        x = torch.as_tensor(np.asarray(crops), device=self.device).permute(0, 3, 1, 2).float() / 255.0
        x = (x - self.mean) / self.std
        return F.normalize(self.model.encode_image(x).float(), dim=1)

    @torch.no_grad()
    def verb_probs_from_features(self, features, object_classes):
        """(P, D) normalised features, (P,) objects -> (P, V) verb probabilities (softmax over the HOI classes of
        each pair's object) and (P, V) bool: verbs that have a HOI class with that object."""
        logits = self.temperature * features @ self.text.t()
        objects = torch.as_tensor(object_classes, device=self.device).view(-1, 1)
        same = self.hoi_object.view(1, -1) == objects
        probs = torch.softmax(logits.masked_fill(~same, float("-inf")), dim=1).nan_to_num(0.0)
        out = torch.zeros(len(features), self.num_verbs, device=self.device)
        defined = torch.zeros(len(features), self.num_verbs, dtype=torch.bool, device=self.device)
        out.scatter_add_(1, self.hoi_verb.expand_as(probs), probs * same)
        defined.scatter_(1, self.hoi_verb.expand_as(same), same)
        return out, defined

    @torch.no_grad()
    def __call__(self, file_name, union_boxes, object_classes, crops):
        """Soft verb targets of one image's pairs.

        Args:
            file_name (str): the image (with each pair's box and object, the cache key).
            union_boxes (Tensor (P, 4)): XYXY original pixels.
            object_classes (Tensor (P,)): object categories.
            crops (Tensor (P, S, S, 3) uint8): each pair's union box, padded square and resized to ``image_size``,
                RGB (the mapper's ``ggnet_distill["crops"]``, data/distill_pairs.py); encoded on a cache miss.

        Returns:
            (Tensor (P, V) float, Tensor (P, V) bool) on the teacher's device: probabilities and where defined.
        """
        boxes = [tuple(round(float(v), 2) for v in b) for b in union_boxes.tolist()]
        objects = [int(o) for o in object_classes.tolist()]
        keys = [(file_name, b, o) for b, o in zip(boxes, objects)]
        if not keys:
            empty = torch.zeros(0, self.num_verbs, device=self.device)
            return empty, empty.bool()
        if self.cache is not None and all(k in self.cache for k in keys):
            probs, defined = zip(*(self.cache[k] for k in keys))
            return torch.stack(probs), torch.stack(defined)
        if tuple(crops.shape[1:]) != (self.image_size, self.image_size, 3):
            raise ValueError(f"{file_name}: teacher crops of shape {tuple(crops.shape)}, expected (P, "
                             f"{self.image_size}, {self.image_size}, 3) (MODEL.GGNET.DISTILL.IMAGE_SIZE)")
        probs, defined = self.verb_probs_from_features(self.encode_crops(np.asarray(crops)), objects)
        if self.cache is not None:
            for k, p, d in zip(keys, probs, defined):
                self.cache[k] = (p, d)
        return probs, defined
