//! Shapes drawn over the image: one `Mesh` per frame for every outline, fill and point, culled to
//! the view, so tens of thousands of boxes cost a few vertex writes each and no tessellation.

use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Color32, Pos2, Rect, Stroke, Vec2, pos2, vec2};

use crate::annotation::document::{BoxPx, Geometry, Point2, Shape, ShapeId};
use crate::ui::theme;

use super::viewport::Viewport;

/// How one shape is drawn this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapeLook {
    /// Outline colour.
    pub color: Color32,
    /// Outline width (screen points).
    pub stroke: f32,
    /// Interior fill opacity (boxes).
    pub fill_alpha: f32,
}

/// What the overlay draws besides the shapes' own geometry.
#[derive(Debug, Clone, Copy, Default)]
pub struct OverlayState<'a> {
    /// The selected shape.
    pub selected: Option<ShapeId>,
    /// The shape under the pointer.
    pub hovered: Option<ShapeId>,
    /// A shape being dragged: drawn with this geometry instead of its own.
    pub live: Option<(ShapeId, &'a Geometry)>,
    /// Class names, to draw over shapes (when few are visible).
    pub names: Option<&'a [String]>,
}

/// Adds a line segment of width `width` as a quad.
pub fn add_segment(mesh: &mut Mesh, a: Pos2, b: Pos2, width: f32, color: Color32) {
    let d = b - a;
    let len = d.length();
    if len < 1e-3 {
        return;
    }
    let n = vec2(-d.y, d.x) / len * (width * 0.5);
    let i = mesh.vertices.len() as u32;
    for p in [a + n, b + n, b - n, a - n] {
        mesh.vertices.push(Vertex { pos: p, uv: WHITE_UV, color });
    }
    mesh.indices.extend_from_slice(&[i, i + 1, i + 2, i, i + 2, i + 3]);
}

/// Adds a rectangle outline of width `width` (centred on the rectangle's edges) as one ring of
/// eight vertices and eight triangles.
pub fn add_rect_outline(mesh: &mut Mesh, r: Rect, width: f32, color: Color32) {
    let h = width * 0.5;
    let (outer, inner) = (r.expand(h), r.shrink(h.min(r.width() * 0.5).min(r.height() * 0.5)));
    let i = mesh.vertices.len() as u32;
    for p in [outer.left_top(), outer.right_top(), outer.right_bottom(), outer.left_bottom()] {
        mesh.vertices.push(Vertex { pos: p, uv: WHITE_UV, color });
    }
    for p in [inner.left_top(), inner.right_top(), inner.right_bottom(), inner.left_bottom()] {
        mesh.vertices.push(Vertex { pos: p, uv: WHITE_UV, color });
    }
    for k in 0..4u32 {
        let (o0, o1, i0, i1) = (i + k, i + (k + 1) % 4, i + 4 + k, i + 4 + (k + 1) % 4);
        mesh.indices.extend_from_slice(&[o0, o1, i1, o0, i1, i0]);
    }
}

/// Adds a filled disc (an octagon).
pub fn add_disc(mesh: &mut Mesh, c: Pos2, radius: f32, color: Color32) {
    let i = mesh.vertices.len() as u32;
    mesh.vertices.push(Vertex { pos: c, uv: WHITE_UV, color });
    for k in 0..8u32 {
        let a = k as f32 * std::f32::consts::TAU / 8.0;
        mesh.vertices.push(Vertex {
            pos: c + vec2(a.cos(), a.sin()) * radius,
            uv: WHITE_UV,
            color,
        });
    }
    for k in 0..8u32 {
        mesh.indices.extend_from_slice(&[i, i + 1 + k, i + 1 + (k + 1) % 8]);
    }
}

fn screen_box(vp: &Viewport, b: &BoxPx) -> Rect {
    Rect::from_min_max(
        vp.screen_from_image(Point2::new(b.left, b.top)),
        vp.screen_from_image(Point2::new(b.right(), b.bottom())),
    )
}

/// Adds one geometry to the mesh.
pub fn add_geometry(
    mesh: &mut Mesh,
    vp: &Viewport,
    geometry: &Geometry,
    look: ShapeLook,
    selected: bool,
) {
    match geometry {
        Geometry::Box(b) => {
            let r = screen_box(vp, b);
            if look.fill_alpha > 0.0 {
                mesh.add_colored_rect(r, theme::with_alpha(look.color, look.fill_alpha));
            }
            add_rect_outline(mesh, r, look.stroke, look.color);
        }
        Geometry::Polygon(v) | Geometry::Polyline(v) => {
            let closed = matches!(geometry, Geometry::Polygon(_));
            let pts: Vec<Pos2> = v.iter().map(|p| vp.screen_from_image(*p)).collect();
            for w in pts.windows(2) {
                add_segment(mesh, w[0], w[1], look.stroke, look.color);
            }
            if closed
                && pts.len() > 2
                && let (Some(first), Some(last)) = (pts.first(), pts.last())
            {
                add_segment(mesh, *last, *first, look.stroke, look.color);
            }
            let r = if selected { theme::POINT_RADIUS } else { look.stroke };
            for p in &pts {
                add_disc(mesh, *p, r, look.color);
            }
        }
        Geometry::Keypoint(p) => {
            let c = vp.screen_from_image(*p);
            add_disc(mesh, c, theme::POINT_RADIUS + 1.5, Color32::BLACK);
            add_disc(mesh, c, theme::POINT_RADIUS, look.color);
        }
    }
}

/// True when a geometry's bounds touch `view` (image pixels), with a margin for strokes.
fn in_view(geometry: &Geometry, view: Rect, margin: f32) -> bool {
    let b = geometry.bounds();
    let r = Rect::from_min_max(
        pos2(b.left as f32, b.top as f32),
        pos2(b.right() as f32, b.bottom() as f32),
    );
    r.expand(margin).intersects(view)
}

/// Draws `shapes` (colours by class from `colors`) in one mesh, culled to the view, with names
/// over them when few are visible. Returns how many were drawn.
pub fn paint_shapes(
    painter: &egui::Painter,
    vp: &Viewport,
    shapes: &[Shape],
    colors: &dyn Fn(usize) -> Color32,
    state: OverlayState<'_>,
) -> usize {
    let view = vp.visible_image_rect();
    let margin = theme::PICK_TOLERANCE / vp.zoom.max(1e-3);
    let mut mesh = Mesh::default();
    mesh.reserve_vertices(shapes.len().min(50_000) * 16);
    mesh.reserve_triangles(shapes.len().min(50_000) * 8);
    let mut visible: Vec<(&Shape, &Geometry)> = Vec::new();
    for shape in shapes {
        let geometry = match state.live {
            Some((id, g)) if id == shape.id => g,
            _ => &shape.geometry,
        };
        if !in_view(geometry, view, margin) || Some(shape.id) == state.selected {
            continue;
        }
        let hovered = Some(shape.id) == state.hovered;
        let look = ShapeLook {
            color: colors(shape.class),
            stroke: if hovered { theme::SELECTED_STROKE } else { theme::SHAPE_STROKE },
            fill_alpha: if hovered { theme::SELECTED_FILL_ALPHA } else { theme::SHAPE_FILL_ALPHA },
        };
        add_geometry(&mut mesh, vp, geometry, look, false);
        visible.push((shape, geometry));
    }
    // The selected shape last, on top.
    if let Some(shape) = state.selected.and_then(|id| shapes.iter().find(|s| s.id == id)) {
        let geometry = match state.live {
            Some((id, g)) if id == shape.id => g,
            _ => &shape.geometry,
        };
        let look = ShapeLook {
            color: colors(shape.class),
            stroke: theme::SELECTED_STROKE,
            fill_alpha: theme::SELECTED_FILL_ALPHA,
        };
        add_geometry(&mut mesh, vp, geometry, look, true);
        if let Geometry::Box(b) = geometry {
            for (_, p) in box_handles(b) {
                let c = vp.screen_from_image(p);
                let r = Rect::from_center_size(c, Vec2::splat(theme::HANDLE_SIZE));
                mesh.add_colored_rect(r.expand(1.0), Color32::BLACK);
                mesh.add_colored_rect(r, theme::HANDLE);
            }
        }
        visible.push((shape, geometry));
    }
    let drawn = visible.len();
    painter.add(egui::Shape::mesh(mesh));
    if let Some(names) = state.names
        && drawn <= theme::MAX_OVERLAY_LABELS
    {
        let font = egui::FontId::proportional(theme::OVERLAY_TEXT);
        for (shape, geometry) in visible {
            let Some(name) = names.get(shape.class) else { continue };
            let b = geometry.bounds();
            let anchor = vp.screen_from_image(Point2::new(b.left, b.top)) + vec2(0.0, -2.0);
            let galley = painter.layout_no_wrap(name.clone(), font.clone(), theme::TEXT);
            let rect = Rect::from_min_size(
                anchor - vec2(0.0, galley.size().y + 2.0),
                galley.size() + vec2(6.0, 2.0),
            );
            painter.rect_filled(rect, 2.0, theme::OVERLAY_TEXT_BG);
            painter.rect_stroke(
                rect,
                2.0,
                Stroke::new(1.0, colors(shape.class)),
                egui::StrokeKind::Inside,
            );
            painter.galley(rect.min + vec2(3.0, 1.0), galley, theme::TEXT);
        }
    }
    drawn
}

/// The eight resize handles of a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handle {
    /// Top-left corner.
    TopLeft,
    /// Top edge.
    Top,
    /// Top-right corner.
    TopRight,
    /// Right edge.
    Right,
    /// Bottom-right corner.
    BottomRight,
    /// Bottom edge.
    Bottom,
    /// Bottom-left corner.
    BottomLeft,
    /// Left edge.
    Left,
}

/// A box being drawn from `start` to `current` (image pixels), filled and outlined in `color`.
pub fn paint_new_box(
    painter: &egui::Painter,
    viewport: &Viewport,
    start: Point2,
    current: Point2,
    color: Color32,
) {
    let r =
        Rect::from_two_pos(viewport.screen_from_image(start), viewport.screen_from_image(current));
    painter.rect_filled(r, 0.0, theme::with_alpha(color, theme::SHAPE_FILL_ALPHA));
    painter.rect_stroke(r, 0.0, Stroke::new(theme::SHAPE_STROKE, color), egui::StrokeKind::Middle);
}

/// The vertices of a polygon or polyline clicked so far and the rubber band to the pointer
/// (`hover`); `closed` adds the dashed closing edge of a polygon.
pub fn paint_pending(
    painter: &egui::Painter,
    viewport: &Viewport,
    pending: &[Point2],
    hover: Option<Point2>,
    color: Color32,
    closed: bool,
) {
    if pending.is_empty() {
        return;
    }
    let mut pts: Vec<Pos2> = pending.iter().map(|p| viewport.screen_from_image(*p)).collect();
    if let Some(h) = hover {
        pts.push(viewport.screen_from_image(h));
    }
    painter.add(egui::Shape::line(pts.clone(), Stroke::new(theme::SHAPE_STROKE, color)));
    if closed
        && pts.len() > 2
        && let (Some(first), Some(last)) = (pts.first(), pts.last())
    {
        painter.add(egui::Shape::dashed_line(&[*last, *first], Stroke::new(1.0, color), 4.0, 4.0));
    }
    for p in pts.iter().take(pending.len()) {
        painter.circle_filled(*p, theme::POINT_RADIUS, color);
        painter.circle_stroke(*p, theme::POINT_RADIUS, Stroke::new(1.0, theme::HANDLE));
    }
}

/// Crosshair guides through `at` (image pixels) across the viewport, for drawing boxes.
pub fn paint_crosshair(painter: &egui::Painter, viewport: &Viewport, at: Point2) {
    let s = viewport.screen_from_image(at);
    let r = viewport.rect;
    let stroke = Stroke::new(1.0, theme::with_alpha(Color32::WHITE, 0.35));
    painter.line_segment([pos2(r.min.x, s.y), pos2(r.max.x, s.y)], stroke);
    painter.line_segment([pos2(s.x, r.min.y), pos2(s.x, r.max.y)], stroke);
}

/// What a press at `at` grabs of a selected shape's `geometry`: a box's handle (corner or edge
/// midpoint within `tolerance` on both axes) or a polygon/polyline vertex (within `tolerance`).
pub fn grab_at(geometry: &Geometry, at: Point2, tolerance: f64) -> Option<Grab> {
    match geometry {
        Geometry::Box(b) => box_handles(b)
            .into_iter()
            .find(|(_, p)| (p.x - at.x).abs() <= tolerance && (p.y - at.y).abs() <= tolerance)
            .map(|(handle, _)| Grab::Handle(handle)),
        Geometry::Polygon(v) | Geometry::Polyline(v) => v
            .iter()
            .position(|p| ((p.x - at.x).powi(2) + (p.y - at.y).powi(2)).sqrt() <= tolerance)
            .map(Grab::Vertex),
        Geometry::Keypoint(_) => None,
    }
}

/// A part of a shape under the pointer ([`grab_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grab {
    /// A box's resize handle.
    Handle(Handle),
    /// A polygon's or polyline's vertex, by index.
    Vertex(usize),
}

/// The handles of a box and where they are (image pixels).
pub fn box_handles(b: &BoxPx) -> [(Handle, Point2); 8] {
    let (l, t, r, bo) = (b.left, b.top, b.right(), b.bottom());
    let (cx, cy) = ((l + r) * 0.5, (t + bo) * 0.5);
    [
        (Handle::TopLeft, Point2::new(l, t)),
        (Handle::Top, Point2::new(cx, t)),
        (Handle::TopRight, Point2::new(r, t)),
        (Handle::Right, Point2::new(r, cy)),
        (Handle::BottomRight, Point2::new(r, bo)),
        (Handle::Bottom, Point2::new(cx, bo)),
        (Handle::BottomLeft, Point2::new(l, bo)),
        (Handle::Left, Point2::new(l, cy)),
    ]
}

/// The box `original` with `handle` dragged to `to`.
pub fn resize_box(original: &BoxPx, handle: Handle, to: Point2) -> BoxPx {
    let (mut l, mut t, mut r, mut b) =
        (original.left, original.top, original.right(), original.bottom());
    match handle {
        Handle::TopLeft => (l, t) = (to.x, to.y),
        Handle::Top => t = to.y,
        Handle::TopRight => (r, t) = (to.x, to.y),
        Handle::Right => r = to.x,
        Handle::BottomRight => (r, b) = (to.x, to.y),
        Handle::Bottom => b = to.y,
        Handle::BottomLeft => (l, b) = (to.x, to.y),
        Handle::Left => l = to.x,
    }
    BoxPx::from_corners(Point2::new(l, t), Point2::new(r, b))
}

/// Distance from `p` to the segment `a`–`b`.
pub fn segment_distance(p: Point2, a: Point2, b: Point2) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((a.x + t * dx - p.x).powi(2) + (a.y + t * dy - p.y).powi(2)).sqrt()
}

/// True when `p` is inside the polygon (even-odd rule).
pub fn polygon_contains(vertices: &[Point2], p: Point2) -> bool {
    let mut inside = false;
    for (i, a) in vertices.iter().enumerate() {
        let b = vertices.get((i + 1) % vertices.len()).unwrap_or(a);
        if (a.y > p.y) != (b.y > p.y) && p.x < a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x) {
            inside = !inside;
        }
    }
    inside
}

/// True when `p` (image pixels) picks `geometry`, with `tolerance` in image pixels.
pub fn hits(geometry: &Geometry, p: Point2, tolerance: f64) -> bool {
    match geometry {
        Geometry::Box(b) => BoxPx {
            left: b.left - tolerance,
            top: b.top - tolerance,
            width: b.width + 2.0 * tolerance,
            height: b.height + 2.0 * tolerance,
        }
        .contains(p),
        Geometry::Polygon(v) => {
            polygon_contains(v, p)
                || v.iter().enumerate().any(|(i, a)| {
                    let b = v.get((i + 1) % v.len()).unwrap_or(a);
                    segment_distance(p, *a, *b) <= tolerance
                })
        }
        Geometry::Polyline(v) => v.windows(2).any(|w| segment_distance(p, w[0], w[1]) <= tolerance),
        Geometry::Keypoint(k) => {
            ((k.x - p.x).powi(2) + (k.y - p.y).powi(2)).sqrt() <= tolerance * 1.5
        }
    }
}

/// The topmost shape under `p`: the smallest box containing it wins among boxes, so a small box
/// inside a large one stays reachable.
pub fn pick(shapes: &[Shape], p: Point2, tolerance: f64) -> Option<ShapeId> {
    let mut best: Option<(f64, ShapeId)> = None;
    for shape in shapes.iter().rev() {
        if !hits(&shape.geometry, p, tolerance) {
            continue;
        }
        let b = shape.geometry.bounds();
        let area = match shape.geometry {
            Geometry::Keypoint(_) | Geometry::Polyline(_) => 0.0,
            _ => b.width * b.height,
        };
        if best.is_none_or(|(a, _)| area < a) {
            best = Some((area, shape.id));
        }
    }
    best.map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grabs_box_handles_and_vertices_within_tolerance() {
        let b = Geometry::Box(BoxPx { left: 10.0, top: 10.0, width: 20.0, height: 10.0 });
        let p = |x, y| Point2::new(x, y);
        assert_eq!(grab_at(&b, p(11.0, 9.0), 2.0), Some(Grab::Handle(Handle::TopLeft)));
        assert_eq!(grab_at(&b, p(31.5, 15.0), 2.0), Some(Grab::Handle(Handle::Right)));
        assert_eq!(grab_at(&b, p(20.0, 20.5), 2.0), Some(Grab::Handle(Handle::Bottom)));
        assert_eq!(grab_at(&b, p(20.0, 15.0), 2.0), None, "inside, away from every handle");
        let poly = Geometry::Polygon(vec![p(0.0, 0.0), p(10.0, 0.0), p(10.0, 10.0)]);
        assert_eq!(grab_at(&poly, p(10.5, 9.0), 1.5), Some(Grab::Vertex(2)));
        assert_eq!(grab_at(&poly, p(5.0, 5.0), 1.5), None);
        assert_eq!(grab_at(&Geometry::Keypoint(p(0.0, 0.0)), p(0.0, 0.0), 5.0), None);
    }

    #[test]
    fn picking_prefers_the_smaller_box_and_lines_by_distance() {
        let b = |id, l, t, w, h| Shape {
            id,
            class: 0,
            geometry: Geometry::Box(BoxPx { left: l, top: t, width: w, height: h }),
            attributes: Default::default(),
        };
        let shapes = vec![b(0, 0.0, 0.0, 100.0, 100.0), b(1, 10.0, 10.0, 10.0, 10.0)];
        assert_eq!(pick(&shapes, Point2::new(15.0, 15.0), 1.0), Some(1));
        assert_eq!(pick(&shapes, Point2::new(50.0, 50.0), 1.0), Some(0));
        assert_eq!(pick(&shapes, Point2::new(150.0, 50.0), 1.0), None);
        let line = Geometry::Polyline(vec![Point2::new(0.0, 0.0), Point2::new(10.0, 0.0)]);
        assert!(hits(&line, Point2::new(5.0, 1.0), 2.0));
        assert!(!hits(&line, Point2::new(5.0, 3.0), 2.0));
        let r = resize_box(
            &BoxPx { left: 0.0, top: 0.0, width: 10.0, height: 10.0 },
            Handle::TopLeft,
            Point2::new(20.0, 5.0),
        );
        assert_eq!(r, BoxPx { left: 10.0, top: 5.0, width: 10.0, height: 5.0 });
    }
}
