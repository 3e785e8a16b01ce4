"""Class-name lists and id spaces of the public HOI datasets (names, plus HICO-DET's fixed rare split and test images).

Pure Python (no numpy, torch or detectron2): dataset loaders, evaluators, the offline scoring CLI and other projects
(e.g. zero-shot splits of HICO-DET's HOI list) import it alike.

- HICO-DET (Chao et al., WACV 2018): 80 COCO object categories, written as in HICO-DET's ``list_action``
  (underscores), listed here in COCO's order so that contiguous id 0 is "person"; 117 verbs in HICO-DET's official
  (alphabetical) order, whose 1-based position is the verb id of the PPDM/GGNet JSON files.
- COCO's 91-id space: the object ids of the PPDM/GGNet HICO-DET and V-COCO JSON files (80 used).
- V-COCO (Gupta & Malik 2015): its 26 actions with their roles (``VCOCO_ACTIONS``), and the action-role verbs with
  the PPDM authors' ids (29: 25 action-roles and the 4 agent-only actions); PPDM trains and evaluates the 25 ids of
  ``VCOCO_PPDM_VERB_IDS`` (agent-only actions excluded), the built-in V-COCO datasets all 29.
- HICO-DET's 600 HOI class names (``HICO_HOI_LIST``) in the order of its official ``list_action``, and its fixed
  rare split (``HICO_RARE_HOI_IDS``); other datasets' rare splits are counted from their training data.
- HICO-DET's 9,658 test images (``hico_test_image_names``): ``HICO_test2015_00000001.jpg`` .. ``00009767`` without the
  109 numbers of ``HICO_TEST_ABSENT_NUMBERS``.
"""

__all__ = [
    "COCO_THING_DATASET_IDS", "HICO_OBJECTS_COCO_ORDER", "HICO_VERBS", "HICO_HOI_LIST", "HICO_RARE_HOI_IDS",
    "HICO_TEST_LAST_NUMBER", "HICO_TEST_ABSENT_NUMBERS", "VCOCO_PPDM_VERB_NAMES", "VCOCO_PPDM_VERB_IDS",
    "VCOCO_ACTIONS", "HOIW_OBJECTS", "HOIW_VERBS", "HOIW_DEMO_PAIRS", "hico_test_image_names", "hico_hoi_classes",
    "hico_ppdm_id_maps",
]

COCO_THING_DATASET_IDS = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
    35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
    64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
)

HICO_OBJECTS_COCO_ORDER = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic_light",
    "fire_hydrant", "stop_sign", "parking_meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant",
    "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard",
    "sports_ball", "kite", "baseball_bat", "baseball_glove", "skateboard", "surfboard", "tennis_racket", "bottle",
    "wine_glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli",
    "carrot", "hot_dog", "pizza", "donut", "cake", "chair", "couch", "potted_plant", "bed", "dining_table", "toilet",
    "tv", "laptop", "mouse", "remote", "keyboard", "cell_phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy_bear", "hair_drier", "toothbrush",
)

HICO_VERBS = (
    "adjust", "assemble", "block", "blow", "board", "break", "brush_with", "buy", "carry", "catch", "chase", "check",
    "clean", "control", "cook", "cut", "cut_with", "direct", "drag", "dribble", "drink_with", "drive", "dry", "eat",
    "eat_at", "exit", "feed", "fill", "flip", "flush", "fly", "greet", "grind", "groom", "herd", "hit", "hold",
    "hop_on", "hose", "hug", "hunt", "inspect", "install", "jump", "kick", "kiss", "lasso", "launch", "lick",
    "lie_on", "lift", "light", "load", "lose", "make", "milk", "move", "no_interaction", "open", "operate", "pack",
    "paint", "park", "pay", "peel", "pet", "pick", "pick_up", "point", "pour", "pull", "push", "race", "read",
    "release", "repair", "ride", "row", "run", "sail", "scratch", "serve", "set", "shear", "sign", "sip", "sit_at",
    "sit_on", "slide", "smell", "spin", "squeeze", "stab", "stand_on", "stand_under", "stick", "stir", "stop_at",
    "straddle", "swing", "tag", "talk_on", "teach", "text_on", "throw", "tie", "toast", "train", "turn", "type_on",
    "walk", "wash", "watch", "wave", "wear", "wield", "zip",
)

# PPDM's V-COCO verb ids (the "category_id" of trainval_vcoco.json / test_vcoco.json hoi_annotation) and their
# action_role names; tools/convert_vcoco.py writes the same ids.
VCOCO_PPDM_VERB_NAMES = {
    0: "surf_instr", 1: "ski_instr", 2: "cut_instr", 3: "walk", 4: "cut_obj", 5: "ride_instr",
    6: "talk_on_phone_instr", 7: "kick_obj", 8: "work_on_computer_instr", 9: "eat_obj", 10: "sit_instr",
    11: "jump_instr", 12: "lay_instr", 13: "drink_instr", 14: "carry_obj", 15: "throw_obj", 16: "eat_instr",
    17: "smile", 18: "look_obj", 19: "hit_instr", 20: "hit_obj", 21: "snowboard_instr", 22: "run",
    23: "point_instr", 24: "read_obj", 25: "hold_obj", 26: "skateboard_instr", 27: "stand", 28: "catch_obj",
}
VCOCO_PPDM_VERB_IDS = (0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 23, 24, 25, 26, 28)

# V-COCO's 26 actions and their roles besides "agent", in the order of the official vcoco_*.json files
# (s-gupta/v-coco, V-COCO.ipynb "Action classes and roles in V-COCO"); the position is the action id of the
# "agent_prediction" records of a prediction file (docs/interfaces.md). Four are agent-only.
VCOCO_ACTIONS = (
    ("hold", ("obj",)), ("stand", ()), ("sit", ("instr",)), ("ride", ("instr",)), ("walk", ()), ("look", ("obj",)),
    ("hit", ("instr", "obj")), ("eat", ("obj", "instr")), ("jump", ("instr",)), ("lay", ("instr",)),
    ("talk_on_phone", ("instr",)), ("carry", ("obj",)), ("throw", ("obj",)), ("catch", ("obj",)),
    ("cut", ("instr", "obj")), ("run", ()), ("work_on_computer", ("instr",)), ("ski", ("instr",)),
    ("surf", ("instr",)), ("skateboard", ("instr",)), ("smile", ()), ("drink", ("instr",)), ("kick", ("obj",)),
    ("point", ("instr",)), ("read", ("obj",)), ("snowboard", ("instr",)),
)

HOIW_OBJECTS = ("person", "cellphone", "cigarette", "drink", "food", "bike", "motorbike", "horse", "ball",
                "computer", "document")
HOIW_VERBS = ("smoke", "call", "play_cellphone", "eat", "drink", "ride", "hold", "kick", "read", "play_computer")
# The (verb, object) pairs of the built-in 30-image HOI-W demo sample (hoiw_demo/annotations.json): its
# correspondence, fixed so a model for it builds without the file (tests/test_dataset_facts.py checks it against the
# file when present).
HOIW_DEMO_PAIRS = (
    ("smoke", "cigarette"), ("call", "cellphone"), ("play_cellphone", "cellphone"), ("drink", "drink"),
    ("ride", "motorbike"), ("hold", "cellphone"), ("hold", "cigarette"), ("hold", "drink"), ("hold", "document"),
    ("read", "document"),
)

# HICO-DET's 600 HOI classes in the official order of its list_action: (object, verbs of that object in order).
HICO_HOI_LIST = (
    ("airplane", "board direct exit fly inspect load ride sit_on wash no_interaction"),
    ("bicycle", "carry hold inspect jump hop_on park push repair ride sit_on straddle walk wash no_interaction"),
    ("bird", "chase feed hold pet release watch no_interaction"),
    ("boat", "board drive exit inspect jump launch repair ride row sail sit_on stand_on tie wash no_interaction"),
    ("bottle", "carry drink_with hold inspect lick open pour no_interaction"),
    ("bus", "board direct drive exit inspect load ride sit_on wash wave no_interaction"),
    ("car", "board direct drive hose inspect jump load park ride wash no_interaction"),
    ("cat", "dry feed hold hug kiss pet scratch wash chase no_interaction"),
    ("chair", "carry hold lie_on sit_on stand_on no_interaction"),
    ("couch", "carry lie_on sit_on no_interaction"),
    ("cow", "feed herd hold hug kiss lasso milk pet ride walk no_interaction"),
    ("dining_table", "clean eat_at sit_at no_interaction"),
    ("dog",
     "carry dry feed groom hold hose hug inspect kiss pet run scratch straddle train walk wash chase no_interaction"),
    ("horse", "feed groom hold hug jump kiss load hop_on pet race ride run straddle train walk wash no_interaction"),
    ("motorcycle", "hold inspect jump hop_on park push race ride sit_on straddle turn walk wash no_interaction"),
    ("person", "carry greet hold hug kiss stab tag teach lick no_interaction"),
    ("potted_plant", "carry hold hose no_interaction"),
    ("sheep", "carry feed herd hold hug kiss pet ride shear walk wash no_interaction"),
    ("train", "board drive exit load ride sit_on wash no_interaction"),
    ("tv", "control repair watch no_interaction"),
    ("apple", "buy cut eat hold inspect peel pick smell wash no_interaction"),
    ("backpack", "carry hold inspect open wear no_interaction"),
    ("banana", "buy carry cut eat hold inspect peel pick smell no_interaction"),
    ("baseball_bat", "break carry hold sign swing throw wield no_interaction"),
    ("baseball_glove", "hold wear no_interaction"),
    ("bear", "feed hunt watch no_interaction"),
    ("bed", "clean lie_on sit_on no_interaction"),
    ("bench", "inspect lie_on sit_on no_interaction"),
    ("book", "carry hold open read no_interaction"),
    ("bowl", "hold stir wash lick no_interaction"),
    ("broccoli", "cut eat hold smell stir wash no_interaction"),
    ("cake", "blow carry cut eat hold light make pick_up no_interaction"),
    ("carrot", "carry cook cut eat hold peel smell stir wash no_interaction"),
    ("cell_phone", "carry hold read repair talk_on text_on no_interaction"),
    ("clock", "check hold repair set no_interaction"),
    ("cup", "carry drink_with hold inspect pour sip smell fill wash no_interaction"),
    ("donut", "buy carry eat hold make pick_up smell no_interaction"),
    ("elephant", "feed hold hose hug kiss hop_on pet ride walk wash watch no_interaction"),
    ("fire_hydrant", "hug inspect open paint no_interaction"),
    ("fork", "hold lift stick lick wash no_interaction"),
    ("frisbee", "block catch hold spin throw no_interaction"),
    ("giraffe", "feed kiss pet ride watch no_interaction"),
    ("hair_drier", "hold operate repair no_interaction"),
    ("handbag", "carry hold inspect no_interaction"),
    ("hot_dog", "carry cook cut eat hold make no_interaction"),
    ("keyboard", "carry clean hold type_on no_interaction"),
    ("kite", "assemble carry fly hold inspect launch pull no_interaction"),
    ("knife", "cut_with hold stick wash wield lick no_interaction"),
    ("laptop", "hold open read repair type_on no_interaction"),
    ("microwave", "clean open operate no_interaction"),
    ("mouse", "control hold repair no_interaction"),
    ("orange", "buy cut eat hold inspect peel pick squeeze wash no_interaction"),
    ("oven", "clean hold inspect open repair operate no_interaction"),
    ("parking_meter", "check pay repair no_interaction"),
    ("pizza", "buy carry cook cut eat hold make pick_up slide smell no_interaction"),
    ("refrigerator", "clean hold move open no_interaction"),
    ("remote", "hold point swing no_interaction"),
    ("sandwich", "carry cook cut eat hold make no_interaction"),
    ("scissors", "cut_with hold open no_interaction"),
    ("sink", "clean repair wash no_interaction"),
    ("skateboard", "carry flip grind hold jump pick_up ride sit_on stand_on no_interaction"),
    ("skis", "adjust carry hold inspect jump pick_up repair ride stand_on wear no_interaction"),
    ("snowboard", "adjust carry grind hold jump ride stand_on wear no_interaction"),
    ("spoon", "hold lick wash sip no_interaction"),
    ("sports_ball", "block carry catch dribble hit hold inspect kick pick_up serve sign spin throw no_interaction"),
    ("stop_sign", "hold stand_under stop_at no_interaction"),
    ("suitcase", "carry drag hold hug load open pack pick_up zip no_interaction"),
    ("surfboard", "carry drag hold inspect jump lie_on load ride stand_on sit_on wash no_interaction"),
    ("teddy_bear", "carry hold hug kiss no_interaction"),
    ("tennis_racket", "carry hold inspect swing no_interaction"),
    ("tie", "adjust cut hold inspect pull tie wear no_interaction"),
    ("toaster", "hold operate repair no_interaction"),
    ("toilet", "clean flush open repair sit_on stand_on wash no_interaction"),
    ("toothbrush", "brush_with hold wash no_interaction"),
    ("traffic_light", "install repair stand_under stop_at no_interaction"),
    ("truck", "direct drive inspect load repair ride sit_on wash no_interaction"),
    ("umbrella", "carry hold lose open repair set stand_under no_interaction"),
    ("vase", "hold make paint no_interaction"),
    ("wine_glass", "fill hold sip toast lick wash no_interaction"),
    ("zebra", "feed hold pet watch no_interaction"),
)

# HICO-DET's 138 rare HOI classes (0-based positions in the official list_action order): the classes with fewer than
# 10 visible training instances in anno_bbox.mat (ho-rcnn evaluation/eval_one.m, ``num_inst < 10``). The official
# split is fixed by the released training annotations, so scoring the test split needs neither them nor a recount;
# source: the ``rare`` field of F. Zhang's hicodet ``instances_test2015.json`` (github.com/fredzzhang/hicodet), which
# tests/test_eval_offline.py checks against ../shared/data/hico_det/instances_test2015.json.
HICO_RARE_HOI_IDS = (
    8, 22, 27, 44, 50, 55, 62, 63, 66, 70, 76, 77, 80, 83, 84, 90, 99, 100, 104, 107, 112, 127, 135, 136, 149, 158,
    165, 166, 168, 172, 179, 181, 184, 188, 189, 192, 195, 198, 205, 206, 214, 216, 222, 227, 229, 238, 239, 254, 255,
    257, 260, 261, 262, 274, 279, 280, 281, 286, 289, 292, 303, 311, 315, 317, 325, 328, 333, 334, 345, 350, 351, 354,
    358, 364, 379, 381, 389, 390, 391, 395, 397, 398, 399, 401, 402, 403, 404, 405, 407, 410, 416, 418, 426, 427, 429,
    431, 436, 439, 440, 449, 451, 463, 469, 474, 482, 485, 498, 499, 504, 509, 514, 517, 520, 522, 526, 531, 535, 539,
    546, 547, 548, 549, 550, 551, 552, 555, 556, 560, 578, 580, 581, 586, 592, 593, 595, 596, 597, 599,
)

# HICO-DET's test split: HICO_test2015_<n>.jpg for n = 1 .. 9767 except these 109 numbers (9,658 images; the images
# HICO-DET left out of HICO's test set). Source: the ``filenames`` of F. Zhang's hicodet ``instances_test2015.json``
# (the bbox_test order of anno_bbox.mat); tests/test_formats.py checks it against ../shared/data when present.
HICO_TEST_LAST_NUMBER = 9767
HICO_TEST_ABSENT_NUMBERS = (
    504, 508, 511, 543, 567, 602, 622, 633, 653, 665, 681, 690, 701, 726, 727, 787, 1078, 1106, 1142, 1188, 1219,
    1227, 1272, 1273, 1307, 1339, 1347, 1353, 1355, 1387, 1388, 1427, 1437, 1447, 1683, 1716, 1728, 1779, 1783, 1815,
    1833, 1936, 1939, 1944, 1997, 2017, 2020, 2318, 2365, 2414, 2429, 2446, 2450, 2487, 2521, 2556, 2562, 2839, 2869,
    2888, 2903, 2914, 2922, 2932, 2978, 2997, 2999, 3008, 3016, 3115, 3116, 3141, 3193, 3489, 3524, 3532, 3605, 3617,
    3666, 3669, 3720, 3724, 4039, 4221, 4250, 4638, 4641, 4667, 4714, 4726, 4748, 4750, 4754, 4786, 4884, 5236, 5240,
    5290, 5300, 5324, 5356, 5738, 5739, 7215, 7429, 9061, 9062, 9063, 9064,
)


def hico_test_image_names():
    """HICO-DET's 9,658 test image names in the official order (name order, as anno_bbox.mat's ``bbox_test``).

    Returns:
        list[str]: ``HICO_test2015_%08d.jpg`` names.
    """
    absent = set(HICO_TEST_ABSENT_NUMBERS)
    return [f"HICO_test2015_{n:08d}.jpg" for n in range(1, HICO_TEST_LAST_NUMBER + 1) if n not in absent]


def hico_hoi_classes():
    """HICO-DET's 600 HOI classes in the official ``list_action`` order, as (verb_id, object category_id).

    Verb ids are positions in ``HICO_VERBS`` (0..116, alphabetical); object ids are positions in
    ``HICO_OBJECTS_COCO_ORDER`` (person = 0).

    Returns:
        list[tuple[int, int]] of length 600; index = HOI class id.
    """
    obj = {name: i for i, name in enumerate(HICO_OBJECTS_COCO_ORDER)}
    verb = {name: i for i, name in enumerate(HICO_VERBS)}
    return [(verb[v], obj[o]) for o, verbs in HICO_HOI_LIST for v in verbs.split()]


def hico_ppdm_id_maps():
    """HICO-DET's id maps in the PPDM/GGNet JSON id space: COCO object ids -> contiguous (COCO order), verbs
    1..117 -> 0..116.

    Returns:
        tuple(dict[int, int], dict[int, int]): thing and verb ``*_dataset_id_to_contiguous_id``.
    """
    return ({d: i for i, d in enumerate(COCO_THING_DATASET_IDS)}, {i + 1: i for i in range(len(HICO_VERBS))})
