#!/usr/bin/env python3
"""Regenerates the demo workspace under assets/demo/ (all content synthetic, made by us).

Run from the repository root: `python3 assets/demo/make_demo.py`. Needs only the Python standard
library and ImageMagick's `convert` (for JPEG). Deterministic: the same bytes every run.
"""
import json, math, os, random, struct, subprocess, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workspace")
BUCKET = "groundwork-demo"
B = os.path.join(ROOT, BUCKET)
rng = random.Random(7)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def png(w, h, px):
    raw = b"".join(b"\x00" + bytes(px[y * w * 3:(y + 1) * w * 3]) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(w * h * 3)

    def set(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def rect(self, x0, y0, x1, y1, c):
        for y in range(max(0, int(y0)), min(self.h, int(y1))):
            for x in range(max(0, int(x0)), min(self.w, int(x1))):
                self.set(x, y, c)

    def ellipse(self, cx, cy, rx, ry, c):
        for y in range(int(cy - ry), int(cy + ry) + 1):
            for x in range(int(cx - rx), int(cx + rx) + 1):
                if ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1:
                    self.set(x, y, c)

    def png(self):
        return png(self.w, self.h, self.px)


def street(w, h, seed, cars, people, trees):
    r = random.Random(seed)
    c = Canvas(w, h)
    horizon = int(h * 0.45)
    for y in range(h):
        if y < horizon:
            t = y / horizon
            col = (int(120 + 80 * t), int(170 + 50 * t), int(235 - 10 * t))
        else:
            t = (y - horizon) / (h - horizon)
            col = (int(95 - 30 * t), int(98 - 30 * t), int(104 - 30 * t))
        for x in range(w):
            n = r.randint(-4, 4)
            c.set(x, y, (max(0, min(255, col[0] + n)), max(0, min(255, col[1] + n)), max(0, min(255, col[2] + n))))
    c.rect(0, horizon - 6, w, horizon, (150, 150, 140))  # kerb
    for i in range(0, w, 60):
        c.rect(i, int(h * 0.75), i + 30, int(h * 0.75) + 5, (235, 230, 200))  # lane marks
    objects = []
    for (x, s) in trees:
        c.rect(x - 4 * s, horizon - 40 * s, x + 4 * s, horizon, (101, 67, 33))
        c.ellipse(x, horizon - 50 * s, 22 * s, 26 * s, (40, 120, 50))
        objects.append(("tree", x - 22 * s, horizon - 76 * s, 44 * s, 76 * s))
    for (x, y, s, col) in cars:
        bw, bh = 90 * s, 34 * s
        c.rect(x, y - bh, x + bw, y - bh * 0.35, col)
        c.rect(x + bw * 0.2, y - bh * 1.45, x + bw * 0.75, y - bh * 0.95, col)
        c.rect(x + bw * 0.26, y - bh * 1.35, x + bw * 0.69, y - bh * 1.0, (170, 210, 230))
        c.ellipse(x + bw * 0.22, y - bh * 0.3, 9 * s, 9 * s, (25, 25, 25))
        c.ellipse(x + bw * 0.78, y - bh * 0.3, 9 * s, 9 * s, (25, 25, 25))
        objects.append(("car", x, y - bh * 1.45, bw, bh * 1.45 + 9 * s))
    for (x, y, s, col) in people:
        c.ellipse(x, y - 46 * s, 6 * s, 7 * s, (230, 190, 160))
        c.rect(x - 7 * s, y - 39 * s, x + 7 * s, y - 16 * s, col)
        c.rect(x - 6 * s, y - 16 * s, x - 1 * s, y, (40, 40, 70))
        c.rect(x + 1 * s, y - 16 * s, x + 6 * s, y, (40, 40, 70))
        objects.append(("pedestrian", x - 7 * s, y - 53 * s, 14 * s, 53 * s))
    return c, objects


def to_jpeg(png_bytes, path):
    tmp = path + ".tmp.png"
    write(tmp, png_bytes)
    subprocess.run(["convert", tmp, "-strip", "-quality", "88", path], check=True)
    os.remove(tmp)


SCENES = [
    dict(seed=1, cars=[(60, 330, 1.4, (200, 40, 40)), (380, 300, 1.0, (40, 70, 190))], people=[(300, 320, 1.3, (230, 160, 30))], trees=[(520, 1.2), (120, 0.8)]),
    dict(seed=2, cars=[(250, 360, 1.8, (230, 230, 235))], people=[(80, 330, 1.5, (50, 150, 60)), (560, 300, 1.0, (160, 40, 140))], trees=[(420, 1.0)]),
    dict(seed=3, cars=[(20, 300, 1.0, (30, 30, 30)), (200, 320, 1.2, (220, 180, 30)), (420, 340, 1.5, (60, 160, 170))], people=[], trees=[(600, 1.3), (330, 0.7)]),
    dict(seed=4, cars=[], people=[(200, 340, 1.6, (200, 60, 60)), (260, 335, 1.5, (60, 60, 200)), (450, 310, 1.1, (90, 90, 90))], trees=[(80, 1.1), (560, 0.9)]),
]

ground_truth_boxes = {}
for i, sc in enumerate(SCENES):
    c, objs = street(640, 400, sc["seed"], sc["cars"], sc["people"], sc["trees"])
    to_jpeg(c.png(), os.path.join(B, "images", f"street-{i + 1:02d}.jpg"))
    ground_truth_boxes[f"street-{i + 1:02d}.jpg"] = objs

# Video frames: a car crossing a street, 12 frames.
for f in range(12):
    c, _ = street(320, 200, 11, [(10 + f * 22, 170, 0.8, (200, 40, 40))], [(250 - f * 4, 160, 0.7, (230, 160, 30))], [(280, 0.6)])
    write(os.path.join(B, "frames", "crossing", f"frame_{f:04d}.png"), c.png())

# Texts for text classification.
TEXTS = [
    "The delivery arrived two days early and everything worked out of the box.",
    "Support never answered my emails; I want a refund.",
    "It does what it says. Nothing more, nothing less.",
    "Battery life is outstanding, easily three days of heavy use.",
    "The screen cracked after a week in my pocket.",
    "Setup took five minutes and the manual was clear.",
]
for i, t in enumerate(TEXTS):
    write(os.path.join(B, "text", f"review-{i + 1:02d}.txt"), t + "\n")

# Point cloud: a street with ground, a wall, two cars, a pole; Ground Truth binary/xyzi (KITTI layout).
pts = []
for _ in range(14000):
    x, y = rng.uniform(-30, 30), rng.uniform(-12, 12)
    pts.append((x, y, rng.gauss(0, 0.03) + 0.01 * x, rng.uniform(0.1, 0.3)))
for _ in range(5000):
    x, z = rng.uniform(-30, 30), rng.uniform(0, 8)
    pts.append((x, 12 + rng.gauss(0, 0.02), z, rng.uniform(0.4, 0.6)))
cuboids = [("car", (6.0, -3.0, 0.8), (4.4, 1.9, 1.6), 0.2), ("car", (-8.0, 4.0, 0.75), (4.0, 1.8, 1.5), -0.1)]
for (_, (cx, cy, cz), (l, w, hgt), yaw) in cuboids:
    for _ in range(2500):
        u, v, s = rng.uniform(-l / 2, l / 2), rng.uniform(-w / 2, w / 2), rng.uniform(-hgt / 2, hgt / 2)
        face = rng.randint(0, 2)
        if face == 0: u = rng.choice([-l / 2, l / 2])
        elif face == 1: v = rng.choice([-w / 2, w / 2])
        else: s = hgt / 2
        x = cx + u * math.cos(yaw) - v * math.sin(yaw)
        y = cy + u * math.sin(yaw) + v * math.cos(yaw)
        pts.append((x, y, cz + s, rng.uniform(0.7, 0.95)))
for _ in range(600):
    a = rng.uniform(0, 2 * math.pi)
    pts.append((15 + 0.1 * math.cos(a), -6 + 0.1 * math.sin(a), rng.uniform(0, 5), 0.8))
write(os.path.join(B, "pointclouds", "street-0000.bin"), b"".join(struct.pack("<4f", *p) for p in pts))

# Camera images for the point clouds (sensor fusion): the same scene the points sample, ray cast
# through the manifest's camera (pinhole, fx = fy = 520, cx = 320, cy = 200, 1.6 m up, looking
# along +x), so projected points and cuboids land on the objects in the picture.
CAM_POS = (0.0, 0.0, 1.6)


def ray_box(o, d, center, size, yaw):
    """Distance and world normal where the ray o + t d enters a box turned by yaw about z."""
    c, s_ = math.cos(-yaw), math.sin(-yaw)
    ox, oy, oz = o[0] - center[0], o[1] - center[1], o[2] - center[2]
    lo = (ox * c - oy * s_, ox * s_ + oy * c, oz)
    ld = (d[0] * c - d[1] * s_, d[0] * s_ + d[1] * c, d[2])
    half = (size[0] / 2, size[1] / 2, size[2] / 2)
    t0, t1, axis = -1e9, 1e9, 0
    for k in range(3):
        if abs(ld[k]) < 1e-12:
            if abs(lo[k]) > half[k]:
                return None
            continue
        a, b = (-half[k] - lo[k]) / ld[k], (half[k] - lo[k]) / ld[k]
        if a > b:
            a, b = b, a
        if a > t0:
            t0, axis = a, k
        t1 = min(t1, b)
        if t0 > t1:
            return None
    if t0 <= 0:
        return None
    n = [0.0, 0.0, 0.0]
    n[axis] = -1.0 if ld[axis] > 0 else 1.0
    cy_, sy = math.cos(yaw), math.sin(yaw)
    world_n = (n[0] * cy_ - n[1] * sy, n[0] * sy + n[1] * cy_, n[2])
    local_hit = (lo[0] + t0 * ld[0], lo[1] + t0 * ld[1], lo[2] + t0 * ld[2])
    return t0, world_n, local_hit


def camera_image(seed, ground_slope, wall_y, wall_height, cars, pole):
    """cars: (center, size, yaw, colour); pole: (x, y, height)."""
    r = random.Random(seed)
    w, h, f, cx, cy = 640, 400, 520.0, 320.0, 200.0
    light = (0.4, -0.5, 0.77)
    c = Canvas(w, h)
    for v in range(h):
        for u in range(w):
            xc, yc = (u + 0.5 - cx) / f, (v + 0.5 - cy) / f
            d = (1.0, -xc, -yc)
            best, col, normal = 1e9, None, (0.0, 0.0, 1.0)
            # Ground z = slope * x.
            denom = d[2] - ground_slope * d[0]
            if denom < -1e-9:
                t = (ground_slope * CAM_POS[0] - CAM_POS[2]) / denom
                x, y = CAM_POS[0] + t * d[0], CAM_POS[1] + t * d[1]
                if abs(y) <= wall_y:
                    best, normal = t, (-ground_slope, 0.0, 1.0)
                    if abs(y) > 7.0:
                        col = (150, 148, 140)  # pavement
                    elif abs(y - 1.2) < 0.1 and (x % 6.0) < 3.0:
                        col = (235, 230, 200)  # lane marks
                    else:
                        col = (78, 80, 86)  # asphalt
            # The wall (a facade with windows) at y = wall_y.
            if d[1] > 1e-9:
                t = (wall_y - CAM_POS[1]) / d[1]
                x, z = CAM_POS[0] + t * d[0], CAM_POS[2] + t * d[2]
                if t < best and 0.0 <= z <= wall_height and abs(x) <= 30.0:
                    best, normal = t, (0.0, -1.0, 0.0)
                    window = (x % 4.0) > 1.5 and (x % 4.0) < 3.0 and (z % 3.0) > 1.0 and (z % 3.0) < 2.3 and z > 2.0
                    col = (90, 110, 130) if window else (196, 170, 132)
            for (center, size, yaw, body) in cars:
                hit = ray_box(CAM_POS, d, center, size, yaw)
                if hit and hit[0] < best:
                    best, normal, (lx, ly, lz) = hit
                    top = lz > size[2] / 2 - 1e-3
                    if lz < -size[2] / 2 + 0.35:
                        col = (30, 30, 32)  # wheels and sills
                    elif not top and lz > size[2] * 0.1 and abs(lx) < size[0] * 0.3:
                        col = (120, 160, 185)  # windows
                    else:
                        col = body
            if pole:
                px, py, ph = pole
                hit = ray_box(CAM_POS, d, (px, py, ph / 2), (0.2, 0.2, ph), 0.0)
                if hit and hit[0] < best:
                    best, normal, _ = hit
                    col = (120, 124, 128)
            if col is None:
                t = v / h
                c.set(u, v, (int(120 + 60 * t), int(170 + 40 * t), int(235 - 5 * t)))
                continue
            nl = math.sqrt(sum(k * k for k in normal))
            lambert = max(0.0, sum(a * b for a, b in zip(normal, light)) / nl)
            shade = 0.55 + 0.45 * lambert
            n = r.randint(-5, 5)
            c.set(u, v, tuple(max(0, min(255, int(k * shade) + n)) for k in col))
    return c


CAR_RED, CAR_BLUE, CAR_WHITE = (190, 35, 35), (40, 70, 180), (225, 225, 230)
c = camera_image(21, 0.01, 12.0, 8.0, [((6.0, -3.0, 0.8), (4.4, 1.9, 1.6), 0.2, CAR_RED),
                                       ((-8.0, 4.0, 0.75), (4.0, 1.8, 1.5), -0.1, CAR_BLUE)], (15.0, -6.0, 5.0))
to_jpeg(c.png(), os.path.join(B, "pointclouds", "camera-front-0000.jpg"))

def s3(key):
    return f"s3://{BUCKET}/{key}"

def jsonl(lines):
    return "".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines)

images = sorted(os.listdir(os.path.join(B, "images")))
write(os.path.join(B, "manifests", "images.manifest"), jsonl([{"source-ref": s3(f"images/{n}")} for n in images]))
write(os.path.join(B, "manifests", "text.manifest"), jsonl([{"source": t} for t in TEXTS]))
frames = sorted(os.listdir(os.path.join(B, "frames", "crossing")))
seq = {"seq-no": 1, "prefix": s3("frames/crossing/"), "number-of-frames": len(frames),
       "frames": [{"frame-no": i, "unix-timestamp": 1700000000 + i * 0.1, "frame": n} for i, n in enumerate(frames)]}
write(os.path.join(B, "frames", "crossing-seq.json"), json.dumps(seq, indent=2) + "\n")
write(os.path.join(B, "manifests", "video.manifest"), jsonl([{"source-ref": s3("frames/crossing-seq.json")}]))
pc_line = {"source-ref": s3("pointclouds/street-0000.bin"), "source-ref-metadata": {"format": "binary/xyzi", "unix-timestamp": 1700000000.0,
           "ego-vehicle-pose": {"position": {"x": 0, "y": 0, "z": 0}, "heading": {"qx": 0, "qy": 0, "qz": 0, "qw": 1}},
           "prefix": s3("pointclouds/"),
           "images": [{"image-path": "camera-front-0000.jpg", "unix-timestamp": 1700000000.0, "fx": 520.0, "fy": 520.0, "cx": 320.0, "cy": 200.0,
                       "k1": 0, "k2": 0, "k3": 0, "k4": 0, "p1": 0, "p2": 0, "skew": 0,
                       "position": {"x": 0, "y": 0, "z": 1.6}, "heading": {"qx": -0.5, "qy": 0.5, "qz": -0.5, "qw": 0.5}, "camera-model": "pinhole"}]}}
write(os.path.join(B, "manifests", "pointcloud.manifest"), jsonl([pc_line]))

# An earlier bounding-box job's output (for the verification / adjustment demo).
lines = []
for n in images:
    objs = ground_truth_boxes[n]
    classes = ["car", "pedestrian", "tree"]
    lines.append({"source-ref": s3(f"images/{n}"),
                  "street-boxes": {"image_size": [{"width": 640, "height": 400, "depth": 3}],
                                   "annotations": [{"class_id": classes.index(o[0]), "left": round(o[1]), "top": round(o[2]), "width": round(o[3]), "height": round(o[4])} for o in objs]},
                  "street-boxes-metadata": {"objects": [{"confidence": 0.0} for _ in objs], "class-map": {str(i): k for i, k in enumerate(classes)},
                                            "type": "groundtruth/object-detection", "human-annotated": "yes",
                                            "creation-date": "2026-11-01T09:00:00.000000", "job-name": "labeling-job/street-boxes"}})
write(os.path.join(B, "manifests", "street-boxes.output.manifest"), jsonl(lines))

def labels(names, instructions):
    return json.dumps({"document-version": "2018-11-28", "labels": [{"label": n} for n in names],
                       "instructions": {"shortInstruction": instructions, "fullInstruction": f"<p>{instructions}</p>"}}, indent=2) + "\n"

write(os.path.join(B, "config", "street-labels.json"), labels(["car", "pedestrian", "tree"], "Draw a tight box around every car, pedestrian and tree."))
write(os.path.join(B, "config", "scene-labels.json"), labels(["busy street", "quiet street", "no street"], "Pick the label that describes the scene best."))
write(os.path.join(B, "config", "sentiment-labels.json"), labels(["positive", "negative", "neutral"], "Choose the sentiment of the review."))
write(os.path.join(B, "config", "verify-labels.json"), labels(["Correct", "Incorrect"], "Are the boxes right?"))
write(os.path.join(B, "config", "video-labels.json"), json.dumps({"document-version": "2020-03-01",
    "labels": [{"label": "car"}, {"label": "pedestrian"}],
    "categoryGlobalAttributes": [{"name": "occluded", "type": "string", "enum": ["no", "partly", "mostly"]}],
    "frameAttributes": [{"name": "weather", "type": "string", "enum": ["sunny", "rain", "fog"]}],
    "instructions": {"shortInstruction": "Track every car and pedestrian.", "fullInstruction": "<p>Track every car and pedestrian across frames.</p>"}}, indent=2) + "\n")
write(os.path.join(B, "config", "pointcloud-labels.json"), json.dumps({"document-version": "2020-03-01",
    "labels": [{"label": "car", "categoryAttributes": [{"name": "parked", "type": "string", "enum": ["yes", "no"]}]}, {"label": "pole"}],
    "instructions": {"shortInstruction": "Draw a cuboid around every car and pole.", "fullInstruction": "<p>Cuboids hug the points.</p>"}}, indent=2) + "\n")
write(os.path.join(B, "config", "pointseg-labels.json"), json.dumps({"documentVersion": "2020-03-01",
    "labels": [{"label": "road"}, {"label": "car"}, {"label": "pole"}, {"label": "building"}, {"label": "vegetation"}],
    "frameAttributes": [{"name": "weather", "description": "Weather in the scene", "type": "string", "enum": ["clear", "rain", "fog"]}],
    "instructions": {"shortInstruction": "Paint every point with its class: road, car, pole, building or vegetation.",
                     "fullInstruction": "<p>Paint with the brush or the lasso; right drag orbits. Leave points that fit no class unlabeled.</p>"}}, indent=2) + "\n")

# Job specs: CreateLabelingJob requests, one per kind of task the demo shows.
REGION, ACCT, PRE_ACCT = "us-east-1", "111122223333", "432418664414"
TEAM = f"arn:aws:sagemaker:{REGION}:{ACCT}:workteam/private-crowd/demo-team"
ROLE = f"arn:aws:iam::{ACCT}:role/groundwork-demo"
JOBS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jobs")

def lam(kind, name):
    return f"arn:aws:lambda:{REGION}:{PRE_ACCT}:function:{kind}-{name}"

def job(name, attr, manifest, labels_key, lambda_name, title, desc, workers, timeout, ui):
    spec = {
        "LabelingJobName": name,
        "LabelAttributeName": attr,
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": s3(f"manifests/{manifest}")}},
                        "DataAttributes": {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation", "FreeOfAdultContent"]}},
        "OutputConfig": {"S3OutputPath": s3("output/")},
        "RoleArn": ROLE,
        "LabelCategoryConfigS3Uri": s3(f"config/{labels_key}"),
        "HumanTaskConfig": {
            "WorkteamArn": TEAM,
            "UiConfig": ui,
            "PreHumanTaskLambdaArn": lam("PRE", lambda_name),
            "TaskTitle": title,
            "TaskDescription": desc,
            "NumberOfHumanWorkersPerDataObject": workers,
            "TaskTimeLimitInSeconds": timeout,
            "TaskAvailabilityLifetimeInSeconds": 864000,
            "MaxConcurrentTaskCount": 100,
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": lam("ACS", lambda_name)},
        },
        "Tags": [{"Key": "project", "Value": "groundwork-demo"}],
    }
    write(os.path.join(JOBS, f"{name}.json"), json.dumps(spec, indent=2) + "\n")

tpl = {"UiTemplateS3Uri": s3("config/template.liquid.html")}
ui = lambda n: {"HumanTaskUiArn": f"arn:aws:sagemaker:{REGION}:394669845002:human-task-ui/{n}"}
write(os.path.join(B, "config", "template.liquid.html"), "<!-- Ground Truth built-in template placeholder: Groundwork renders its own worker UI -->\n")
job("street-scenes", "street-scenes", "images.manifest", "scene-labels.json", "ImageMultiClass", "Classify street scenes", "Pick the label that describes the scene best.", 3, 300, tpl)
job("street-boxes", "street-boxes", "images.manifest", "street-labels.json", "BoundingBox", "Draw boxes around road users", "Draw a tight box around every car, pedestrian and tree.", 1, 3600, tpl)
job("street-segmentation", "street-segmentation-ref", "images.manifest", "street-labels.json", "SemanticSegmentation", "Paint road users", "Paint every car, pedestrian and tree.", 1, 3600, tpl)
job("street-boxes-verify", "street-boxes-verify", "street-boxes.output.manifest", "verify-labels.json", "VerificationBoundingBox", "Check the boxes", "Are the boxes tight and correctly labeled?", 1, 300, tpl)
job("review-sentiment", "review-sentiment", "text.manifest", "sentiment-labels.json", "TextMultiClass", "Review sentiment", "Choose the sentiment of each review.", 3, 300, tpl)
job("crossing-tracking", "crossing-tracking-ref", "video.manifest", "video-labels.json", "VideoObjectTracking", "Track road users", "Track every car and pedestrian across frames.", 1, 259200, ui("VideoObjectTracking"))
job("street-cuboids", "street-cuboids", "pointcloud.manifest", "pointcloud-labels.json", "3DPointCloudObjectDetection", "Cuboids around cars", "Draw a cuboid around every car and pole.", 1, 259200, ui("PointCloudObjectDetection"))
job("street-pointseg", "street-pointseg-ref", "pointcloud.manifest", "pointseg-labels.json", "3DPointCloudSemanticSegmentation", "Paint the street's points", "Paint every point with its class.", 1, 259200, ui("PointCloudSemanticSegmentation"))

# Point-cloud sequence (3D object tracking): the street again, 4 frames, a car driving past a
# parked one; world coordinates shared by all frames, identity ego pose, the front camera.
seq_rng = random.Random(17)
def box_points(r, n, center, size, yaw):
    (cx, cy, cz), (l, w, hgt) = center, size
    out = []
    for _ in range(n):
        u, v, s = r.uniform(-l / 2, l / 2), r.uniform(-w / 2, w / 2), r.uniform(-hgt / 2, hgt / 2)
        face = r.randint(0, 2)
        if face == 0: u = r.choice([-l / 2, l / 2])
        elif face == 1: v = r.choice([-w / 2, w / 2])
        else: s = hgt / 2
        out.append((cx + u * math.cos(yaw) - v * math.sin(yaw), cy + u * math.sin(yaw) + v * math.cos(yaw), cz + s, r.uniform(0.7, 0.95)))
    return out
seq_frames = []
for f in range(4):
    pts = []
    for _ in range(4000):
        x, y = seq_rng.uniform(-25, 25), seq_rng.uniform(-10, 10)
        pts.append((x, y, seq_rng.gauss(0, 0.03), seq_rng.uniform(0.1, 0.3)))
    for _ in range(1200):
        pts.append((seq_rng.uniform(-25, 25), 10 + seq_rng.gauss(0, 0.02), seq_rng.uniform(0, 6), seq_rng.uniform(0.4, 0.6)))
    pts += box_points(seq_rng, 1200, (-9.0 + 4.0 * f, -3.0, 0.8), (4.4, 1.9, 1.6), 0.05 * f)
    pts += box_points(seq_rng, 900, (7.0, 4.0, 0.75), (4.0, 1.8, 1.5), -0.1)
    name = f"frame-{f:02d}.bin"
    write(os.path.join(B, "pointclouds", "street-seq", name), b"".join(struct.pack("<4f", *p) for p in pts))
    c = camera_image(40 + f, 0.0, 10.0, 6.0, [((-9.0 + 4.0 * f, -3.0, 0.8), (4.4, 1.9, 1.6), 0.05 * f, CAR_WHITE),
                                              ((7.0, 4.0, 0.75), (4.0, 1.8, 1.5), -0.1, CAR_RED)], None)
    to_jpeg(c.png(), os.path.join(B, "pointclouds", "street-seq", f"camera-front-{f:02d}.jpg"))
    seq_frames.append({"frame-no": f, "unix-timestamp": 1700000100 + f * 0.1, "frame": name, "format": "binary/xyzi",
                       "ego-vehicle-pose": {"position": {"x": 0, "y": 0, "z": 0}, "heading": {"qx": 0, "qy": 0, "qz": 0, "qw": 1}},
                       "prefix": s3("pointclouds/"),
                       "images": [{"image-path": f"street-seq/camera-front-{f:02d}.jpg", "unix-timestamp": 1700000100 + f * 0.1, "fx": 520.0, "fy": 520.0, "cx": 320.0, "cy": 200.0,
                                   "position": {"x": 0, "y": 0, "z": 1.6}, "heading": {"qx": -0.5, "qy": 0.5, "qz": -0.5, "qw": 0.5}, "camera-model": "pinhole"}]})
write(os.path.join(B, "pointclouds", "street-seq.json"), json.dumps({"seq-no": 1, "prefix": s3("pointclouds/street-seq/"), "number-of-frames": len(seq_frames), "frames": seq_frames}, indent=2) + "\n")
write(os.path.join(B, "manifests", "pointcloud-seq.manifest"), jsonl([{"source-ref": s3("pointclouds/street-seq.json")}]))
job("street-tracking", "street-tracking-ref", "pointcloud-seq.manifest", "pointcloud-labels.json", "3DPointCloudObjectTracking", "Track the cars", "Track every car and pole through the frames.", 1, 259200, ui("PointCloudObjectTracking"))
