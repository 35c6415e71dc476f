"""What the pages draw, checked for PDF/A-2b: colour spaces, fonts, transparency, images, forms
and annotations (clauses 6.2.x, 6.3.x of ISO 19005-2). A mix-in of the validator in `check`:
it walks each page's content stream with its graphics state (font, text rendering mode, q/Q)
into the form XObjects, patterns, soft masks and appearance streams it reaches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf

_BLEND_MODES = {
    "/Normal", "/Compatible", "/Multiply", "/Screen", "/Overlay", "/Darken", "/Lighten",
    "/ColorDodge", "/ColorBurn", "/HardLight", "/SoftLight", "/Difference", "/Exclusion",
    "/Hue", "/Saturation", "/Color", "/Luminosity",
}  # fmt: skip
_FORBIDDEN_ANNOTS = {"/3D", "/Sound", "/Screen", "/Movie"}
_DEVICE = {
    "/DeviceRGB": "RGB", "/RGB": "RGB", "/DeviceCMYK": "CMYK", "/CMYK": "CMYK",
    "/DeviceGray": "Gray", "/G": "Gray",
}  # fmt: skip
_DEFAULT_FOR = {"RGB": "/DefaultRGB", "CMYK": "/DefaultCMYK", "Gray": "/DefaultGray"}
_SHOW_TEXT = {"Tj", "TJ", "'", '"'}


@dataclass
class _State:
    font: Any = None
    render_mode: int = 0


class ContentChecks:
    """The page-level checks; the validator supplies `fail`, `_action` and the state below."""

    intent_space: str | None
    device_uses: dict[str, str]
    transparent_pages: list[int]
    _seen: set[tuple[int, int]]
    _fonts_failed: set[tuple[int, int]]
    _forms: dict[tuple[int, int], bool]

    def fail(self, clause: str, message: str, where: str = "") -> None:
        raise NotImplementedError

    def _action(self, action: Any, where: str, depth: int = 0) -> None:
        raise NotImplementedError

    # -- pages and what they draw (the walk of every content stream) ------------------------

    def _page(self, number: int, page: pikepdf.Page) -> None:
        obj, where = page.obj, f"page {number}"
        if "/AA" in obj:
            self.fail("6.5.2", "trang có hành động kích hoạt (AA on a page)", where)
        if "/PresSteps" in obj:
            self.fail("6.10", "trang có PresSteps (PresSteps on a page)", where)
        resources = obj.get("/Resources", pikepdf.Dictionary())
        transparent = self._content(page, resources, where, set())
        group = obj.get("/Group")
        if isinstance(group, pikepdf.Dictionary) and "/CS" in group:
            self._colour_space(group.CS, resources, f"{where} group")
        elif transparent:
            self.transparent_pages.append(number)
        for annot in obj.get("/Annots", pikepdf.Array()):
            if isinstance(annot, pikepdf.Dictionary):
                self._annotation(annot, where)

    def _annotation(self, annot: pikepdf.Dictionary, page: str) -> None:
        kind = str(annot.get("/Subtype", ""))
        where = f"{page}, annotation {kind}"
        if kind in _FORBIDDEN_ANNOTS:
            self.fail("6.3.1", f"loại chú thích bị cấm (annotation type {kind})", where)
        flags = int(annot.get("/F", 0))
        if kind != "/Popup" and (not flags & 4 or flags & (1 | 2 | 32 | 256)):
            self.fail("6.3.2", f"cờ chú thích không hợp lệ (annotation flags F={flags}: Print "
                      "must be set, Hidden/Invisible/NoView clear)", where)  # fmt: skip
        rect = [float(v) for v in annot.get("/Rect", [0, 0, 0, 0])]
        visible = len(rect) == 4 and rect[0] != rect[2] and rect[1] != rect[3]
        appearance = annot.get("/AP")
        if kind not in ("/Popup", "/Link") and visible:
            if not isinstance(appearance, pikepdf.Dictionary) or "/N" not in appearance:
                self.fail("6.3.3", "chú thích không có hình hiển thị (no normal appearance)", where)
            elif set(appearance.keys()) != {"/N"}:
                self.fail("6.3.3", "hình hiển thị có khóa khác N (AP keys other than N)", where)
        if kind == "/Widget" and ("/A" in annot or "/AA" in annot):
            self.fail("6.4.1", "widget có hành động (widget with A/AA)", where)
        elif isinstance(annot.get("/A"), pikepdf.Dictionary):
            self._action(annot.A, where)
        if isinstance(appearance, pikepdf.Dictionary):
            for state in appearance.values():
                streams = state.values() if isinstance(state, pikepdf.Dictionary) else [state]
                for stream in streams:
                    if isinstance(stream, pikepdf.Stream):
                        self._form(stream, pikepdf.Dictionary(), f"{where} appearance", set())

    def _content(self, owner: Any, resources: Any, where: str, stack: set[Any]) -> bool:
        """Walk one content stream; True when it draws with transparency."""
        if not isinstance(resources, pikepdf.Dictionary):
            resources = pikepdf.Dictionary()
        transparent = self._resource_scan(resources, where)
        try:
            instructions = pikepdf.parse_content_stream(owner)
        except pikepdf.PdfError as exc:
            self.fail("6.2.2", f"luồng nội dung hỏng (content stream does not parse: {exc})", where)
            return transparent
        state, saved = _State(), []
        for inst in instructions:
            op = str(inst.operator)
            ops = list(inst.operands)
            if op == "q":
                saved.append(_State(state.font, state.render_mode))
            elif op == "Q" and saved:
                state = saved.pop()
            elif op == "Tf" and ops:
                state.font = _lookup(resources, "/Font", ops[0])
            elif op == "Tr" and ops:
                state.render_mode = int(ops[0])
            elif op in _SHOW_TEXT and state.render_mode != 3:
                self._font(state.font, where)
            elif op in ("rg", "RG"):
                self._device("RGB", resources, where)
            elif op in ("k", "K"):
                self._device("CMYK", resources, where)
            elif op in ("g", "G"):
                self._device("Gray", resources, where)
            elif op in ("cs", "CS") and ops:
                self._colour_space(ops[0], resources, where)
            elif op == "Do" and ops:
                xobject = _lookup(resources, "/XObject", ops[0])
                if isinstance(xobject, pikepdf.Stream):
                    transparent |= self._xobject(xobject, resources, where, stack)
            elif op == "INLINE IMAGE":
                assert isinstance(inst, pikepdf.ContentStreamInlineImage)
                image = inst.iimage.obj
                if not image.get("/ImageMask", image.get("/IM", False)):
                    space = image.get("/ColorSpace", image.get("/CS"))
                    if space is not None:
                        self._colour_space(space, resources, f"{where} inline image")
                if true(image.get("/Interpolate")):
                    self.fail("6.2.8", "ảnh nội tuyến có Interpolate (Interpolate true)", where)
        return transparent

    def _resource_scan(self, resources: pikepdf.Dictionary, where: str) -> bool:
        """Graphics states, shadings and patterns of a resource dictionary."""
        transparent = False
        for gs in _values(resources.get("/ExtGState")):
            if not isinstance(gs, pikepdf.Dictionary):
                continue
            if "/TR" in gs or ("/TR2" in gs and gs.TR2 != "/Default"):
                self.fail("6.2.5", "trạng thái đồ họa có hàm chuyển (TR/TR2 transfer function)",
                          where)  # fmt: skip
            if "/HTP" in gs or "/HTO" in gs:
                self.fail("6.2.5", "trạng thái đồ họa có HTP/HTO", where)
            modes = gs.get("/BM")
            for mode in modes if isinstance(modes, pikepdf.Array) else [modes]:
                if mode is not None and str(mode) not in _BLEND_MODES:
                    self.fail("6.2.10", f"chế độ hòa trộn không chuẩn (blend mode {mode})", where)
                if mode is not None and str(mode) not in ("/Normal", "/Compatible"):
                    transparent = True
            mask = gs.get("/SMask")
            if isinstance(mask, pikepdf.Dictionary):
                transparent = True
                if isinstance(mask.get("/G"), pikepdf.Stream):
                    self._form(mask.G, resources, f"{where} soft mask", set())
            if float(gs.get("/CA", 1)) < 1 or float(gs.get("/ca", 1)) < 1:
                transparent = True
        for shading in _values(resources.get("/Shading")):
            if isinstance(shading, pikepdf.Object) and "/ColorSpace" in shading:
                self._colour_space(shading.ColorSpace, resources, f"{where} shading")
        for pattern in _values(resources.get("/Pattern")):
            if isinstance(pattern, pikepdf.Stream) and pattern.objgen not in self._seen:
                self._seen.add(pattern.objgen)
                self._content(pattern, pattern.get("/Resources"), f"{where} pattern", set())
            elif isinstance(pattern, pikepdf.Dictionary) and "/Shading" in pattern:
                shading = pattern.Shading
                if "/ColorSpace" in shading:
                    self._colour_space(shading.ColorSpace, resources, f"{where} pattern")
        return transparent

    def _xobject(
        self, xobject: pikepdf.Stream, inherited: Any, where: str, stack: set[Any]
    ) -> bool:
        kind = xobject.get("/Subtype")
        if kind == "/Image":
            return self._image(xobject, inherited, where)
        if kind == "/PS" or "/PS" in xobject:
            self.fail("6.2.9", "XObject PostScript bị cấm (PostScript XObject)", where)
            return False
        if kind == "/Form":
            return self._form(xobject, inherited, where, stack)
        return False

    def _image(self, image: pikepdf.Stream, resources: Any, where: str) -> bool:
        where = f"{where} image"
        if "/Alternates" in image or "/OPI" in image:
            self.fail("6.2.8", "ảnh có Alternates/OPI (image with Alternates or OPI)", where)
        if true(image.get("/Interpolate")):
            self.fail("6.2.8", "ảnh có Interpolate true (image with Interpolate true)", where)
        if not image.get("/ImageMask", False) and "/ColorSpace" in image:
            self._colour_space(image.ColorSpace, resources, where)
        return "/SMask" in image or int(image.get("/SMaskInData", 0)) > 0

    def _form(self, form: Any, inherited: Any, where: str, stack: set[Any]) -> bool:
        if "/Ref" in form or "/OPI" in form or form.get("/Subtype2") == "/PS":
            self.fail("6.2.9", "XObject biểu mẫu có Ref/OPI/PS (form XObject with Ref, OPI "
                      "or Subtype2 PS)", where)  # fmt: skip
        key = form.objgen
        if key in stack:
            return False  # a form that draws itself
        if key in self._forms:
            return self._forms[key]  # drawn and checked before (a form shared by pages)
        resources = form.get("/Resources", inherited)
        group = form.get("/Group")
        if isinstance(group, pikepdf.Dictionary) and "/CS" in group:
            self._colour_space(group.CS, resources, f"{where} group")
        transparent = self._content(form, resources, f"{where} form", stack | {key})
        transparent |= isinstance(group, pikepdf.Dictionary) and group.get("/S") == "/Transparency"
        if key != (0, 0):
            self._forms[key] = transparent
        return transparent

    # -- colours and fonts ---------------------------------------------------------------------

    def _colour_space(self, space: Any, resources: Any, where: str, depth: int = 0) -> None:
        if depth > 8:
            return
        if isinstance(space, pikepdf.Name):
            name = str(space)
            if name in _DEVICE:
                self._device(_DEVICE[name], resources, where)
                return
            named = _lookup(resources, "/ColorSpace", space)
            if named is not None:
                self._colour_space(named, resources, where, depth + 1)
            return
        if not isinstance(space, pikepdf.Array) or not len(space):
            return
        family = str(space[0])
        # the space a colour finally lands in: an Indexed/Pattern base, a Separation's alternate
        position = {"/Indexed": 1, "/I": 1, "/Pattern": 1, "/Separation": 2, "/DeviceN": 2}
        index = position.get(family)
        if index is not None and len(space) > index:
            self._colour_space(space[index], resources, where, depth + 1)

    def _device(self, kind: str, resources: Any, where: str) -> None:
        spaces = resources.get("/ColorSpace") if isinstance(resources, pikepdf.Dictionary) else None
        if isinstance(spaces, pikepdf.Dictionary) and _DEFAULT_FOR[kind] in spaces:
            return  # a device-independent Default space stands in for it
        self.device_uses.setdefault(kind, where)

    def _device_colours(self) -> None:
        intent = self.intent_space
        wanted = {"RGB": "RGB ", "CMYK": "CMYK"}
        for kind, where in self.device_uses.items():
            if intent is None:
                self.fail("6.2.4.3", f"dùng Device{kind} mà không có OutputIntent PDF/A "
                          f"(Device{kind} used without a PDF/A OutputIntent)", where)  # fmt: skip
            elif kind in wanted and intent != wanted[kind]:
                shown = intent.strip()
                self.fail("6.2.4.3", f"dùng Device{kind} nhưng OutputIntent là {shown} "
                          f"(Device{kind} with a {shown} OutputIntent)", where)  # fmt: skip
        if intent is None:
            for number in self.transparent_pages:
                self.fail("6.2.10", "trang có độ trong suốt nhưng không có Group/CS và "
                          "OutputIntent (transparency without a blending colour space)",
                          f"page {number}")  # fmt: skip

    def _font(self, font: Any, where: str) -> None:
        if not isinstance(font, pikepdf.Dictionary) or font.objgen in self._fonts_failed:
            return
        if not _embedded(font):
            self._fonts_failed.add(font.objgen)
            name = str(font.get("/BaseFont", "?")).lstrip("/")
            self.fail("6.2.11.4.1", f"phông chữ không được nhúng (font not embedded: {name})",
                      where)  # fmt: skip


def _embedded(font: Any) -> bool:
    kind = font.get("/Subtype")
    if kind == "/Type3":
        return True
    if kind == "/Type0":
        descendants = font.get("/DescendantFonts")
        if not isinstance(descendants, pikepdf.Array) or not len(descendants):
            return False
        font = descendants[0]
    descriptor = font.get("/FontDescriptor")
    return isinstance(descriptor, pikepdf.Dictionary) and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
    )


def true(value: Any) -> bool:
    return isinstance(value, bool) and value


def _lookup(resources: Any, category: str, name: Any) -> Any:
    if not isinstance(resources, pikepdf.Dictionary) or not isinstance(name, pikepdf.Name):
        return None
    group = resources.get(category)
    return group.get(name) if isinstance(group, pikepdf.Dictionary) else None


def _values(group: Any) -> Iterator[Any]:
    if isinstance(group, pikepdf.Dictionary):
        yield from group.values()
