"""Tests for Topic 01's interactive memory-layout viewer (assets/numpy_stride_visualization.html).

The page is opened from disk in headless Chromium and driven with Selenium. Everything it computes
(window.strideLab) and everything it shows after typing and clicking must agree with NumPy:
strides, offsets, contiguity, which reshapes copy, which buffer cell an element lives in.

Needs the Debian packages chromium and chromium-driver and the Python package selenium:
    apt-get install -y chromium chromium-driver && pip install selenium
Without them these tests are skipped, or fail when the CI environment variable is set.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

from dlfs.curriculum import topic

PAGE = topic(1).folder / "assets" / "numpy_stride_visualization.html"
DTYPES = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}


# ----------------------------------------------------------------------------------------------
# Static check: no browser needed.
# ----------------------------------------------------------------------------------------------

def test_page_is_self_contained_and_works_offline():
    html = PAGE.read_text(encoding="utf-8")
    assert not re.search(r"https?://", html, re.IGNORECASE), "the page must not reference any http(s) URL"
    # Every src/href must be inline (data:) or an in-page anchor, so file:// works without network.
    external = [m.group(0) for m in re.finditer(r"""(?:src|href)\s*=\s*["'](?!data:|#)[^"']*["']""", html)]
    assert external == [], f"external resources: {external}"
    assert "@import" not in html
    assert "<script>" in html and "<style>" in html, "CSS and JS are expected inline"


# ----------------------------------------------------------------------------------------------
# Browser fixtures and helpers.
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def page(driver):
    """A freshly loaded page (state reset); fails the test if the console logged an error."""
    driver.get(PAGE.as_uri())
    driver.get_log("browser")  # drop messages from earlier pages
    yield driver
    assert_no_console_errors(driver)


def assert_no_console_errors(driver):
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], f"JavaScript console errors: {errors}"


def type_into(driver, element_id: str, text: str):
    from selenium.webdriver.common.by import By
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def click(driver, element_id: str):
    from selenium.webdriver.common.by import By
    driver.find_element(By.ID, element_id).click()


def choose(driver, select_id: str, value: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(By.ID, select_id)).select_by_value(value)


def create_array(driver, shape, itemsize=8, order="C"):
    type_into(driver, "shape-input", ",".join(map(str, shape)))
    choose(driver, "itemsize-select", str(itemsize))
    choose(driver, "order-select", order)
    click(driver, "create-button")


def apply_op(driver, op: str, text: str):
    type_into(driver, f"{op}-input", text)
    click(driver, f"{op}-button")


def ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",")) if text else ()


def read_view(driver) -> dict:
    """What the 'Current view' panel shows, from its data attributes."""
    raw = driver.execute_script("""
        const d = id => document.getElementById(id).dataset;
        return {shape: d('view-shape').value, strides: d('view-strides-bytes').value,
                elements: d('view-strides-elements').value, offset: d('view-offset').value,
                buffer: d('view-buffer').value, copied: d('view-buffer').copied,
                c: d('view-contiguous').c, f: d('view-contiguous').f,
                message: document.getElementById('op-message').textContent,
                messageKind: document.getElementById('op-message').dataset.kind};""")
    return {
        "shape": ints(raw["shape"]), "strides": ints(raw["strides"]), "elements": ints(raw["elements"]),
        "offset": int(raw["offset"]), "buffer": int(raw["buffer"]), "copied": raw["copied"] == "true",
        "c": raw["c"] == "true", "f": raw["f"] == "true", "message": raw["message"], "kind": raw["messageKind"],
    }


def logical_values(driver) -> dict[tuple[int, ...], int]:
    pairs = driver.execute_script(
        "return [...document.querySelectorAll('.logical-cell')].map(c => [c.dataset.index, c.textContent]);")
    return {ints(index): int(value) for index, value in pairs}


def buffer_values(driver, buffer_id: int) -> list[int]:
    return [int(v) for v in driver.execute_script(
        "return [...document.querySelectorAll(`#buffer-${arguments[0]} .buffer-cell .value`)].map(c => c.textContent);",
        buffer_id)]


def address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def assert_view_matches(driver, view: np.ndarray, memory: np.ndarray):
    """The page's current view has NumPy's shape, strides, offset, contiguity and values."""
    shown = read_view(driver)
    assert shown["kind"] != "error", shown["message"]
    assert shown["shape"] == view.shape
    assert shown["strides"] == view.strides
    assert shown["elements"] == tuple(s // view.itemsize for s in view.strides)
    assert shown["offset"] == address(view) - address(memory)
    assert shown["c"] == view.flags["C_CONTIGUOUS"]
    assert shown["f"] == view.flags["F_CONTIGUOUS"]
    assert logical_values(driver) == {index: int(view[index]) for index in np.ndindex(view.shape)}


def numpy_base(shape, itemsize=8, order="C") -> np.ndarray:
    """The array the page builds: 0, 1, 2, ... in memory order."""
    return np.arange(int(np.prod(shape)), dtype=DTYPES[itemsize]).reshape(shape, order=order)


# ----------------------------------------------------------------------------------------------
# The page loads cleanly.
# ----------------------------------------------------------------------------------------------

def test_page_loads_without_console_errors(page):
    assert page.title.startswith("NumPy memory layout")
    api = page.execute_script("return Object.keys(window.strideLab || {});")
    for name in ["cStrides", "fStrides", "transposeView", "reshapeView", "sliceView",
                 "broadcastView", "expandDimsView", "squeezeView", "elementAddress"]:
        assert name in api
    # Default array (2, 3, 4) int64 is drawn: 24 buffer cells and 24 logical cells.
    assert page.execute_script("return document.querySelectorAll('.buffer-cell').length;") == 24
    base = numpy_base((2, 3, 4))
    assert_view_matches(page, base, base)
    assert_no_console_errors(page)


# ----------------------------------------------------------------------------------------------
# window.strideLab against NumPy.
# ----------------------------------------------------------------------------------------------

LAYOUT_SHAPES = [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (4, 1)]


@pytest.mark.parametrize("itemsize", [1, 2, 4, 8])
def test_c_f_and_transposed_strides_match_numpy(page, itemsize):
    dtype = DTYPES[itemsize]
    rng = np.random.default_rng(itemsize)
    perms = [rng.permutation(len(s)).tolist() for s in LAYOUT_SHAPES]
    got = page.execute_script("""
        const lab = window.strideLab, [shapes, itemsize, perms] = arguments;
        return shapes.map((shape, i) => {
          const c = lab.makeArrayView(shape, itemsize, 'C', 0);
          return [lab.cStrides(shape, itemsize), lab.fStrides(shape, itemsize),
                  lab.transposeView(c, null).strides, lab.transposeView(c, perms[i]).strides];
        });""", LAYOUT_SHAPES, itemsize, perms)
    for shape, perm, (c, f, t, p) in zip(LAYOUT_SHAPES, perms, got):
        array = np.empty(shape, dtype)
        assert tuple(c) == array.strides
        assert tuple(f) == np.empty(shape, dtype, order="F").strides
        assert tuple(t) == array.T.strides
        assert tuple(p) == array.transpose(perm).strides


SLICE_CASES = [
    ((2, 3, 4), 8, "1:, ::-1, ::2"),
    ((2, 3, 4), 4, ":, 1, -1::-2"),
    ((6,), 2, "-2:0:-1"),
    ((5, 6), 1, "::-2, 1:5:3"),
    ((4, 4), 8, "10:, -100:2"),  # out-of-range bounds are clamped like Python
    ((3, 4, 2), 2, "-1"),
]


@pytest.mark.parametrize("shape, itemsize, text", SLICE_CASES)
def test_slice_strides_and_offsets_match_numpy(page, shape, itemsize, text):
    base = numpy_base(shape, itemsize)
    index = eval(f"np.s_[{text}]", {"np": np})  # the same text as a NumPy index
    view = base[index]
    if view.size == 0:
        error = page.execute_script("""
            const lab = window.strideLab;
            try { lab.sliceView(lab.makeArrayView(arguments[0], arguments[1], 'C', 0), lab.parseSlices(arguments[2])); }
            catch (e) { return e.message; } return null;""", list(shape), itemsize, text)
        assert error is not None and "no elements" in error
        return
    got = page.execute_script("""
        const lab = window.strideLab;
        const v = lab.sliceView(lab.makeArrayView(arguments[0], arguments[1], 'C', 0), lab.parseSlices(arguments[2]));
        return [v.shape, v.strides, v.offset];""", list(shape), itemsize, text)
    assert tuple(got[0]) == view.shape
    assert tuple(got[1]) == view.strides
    assert got[2] == address(view) - address(base)


BROADCAST_CASES = [((3,), (2, 4, 3)), ((3, 1), (3, 4)), ((1, 3), (1, 3)), ((2, 1, 3), (2, 5, 3)), ((4,), (4,))]


@pytest.mark.parametrize("shape, target", BROADCAST_CASES)
def test_broadcast_strides_match_numpy(page, shape, target):
    got = page.execute_script("""
        const lab = window.strideLab;
        return lab.broadcastView(lab.makeArrayView(arguments[0], 4, 'C', 0), arguments[1]).strides;""",
        list(shape), list(target))
    assert tuple(got) == np.broadcast_to(np.empty(shape, np.float32), target).strides


def test_incompatible_broadcast_is_rejected(page):
    with pytest.raises(ValueError):
        np.broadcast_to(np.empty((2, 3)), (4, 3, 2))
    error = page.execute_script("""
        const lab = window.strideLab;
        try { lab.broadcastView(lab.makeArrayView([2, 3], 8, 'C', 0), [4, 3, 2]); } catch (e) { return e.message; }
        return null;""")
    assert error is not None and "broadcast" in error


def test_reshape_of_non_contiguous_view_needs_a_copy(page):
    base = numpy_base((2, 3, 4))
    transposed = base.T
    copied = transposed.reshape(6, 4)
    assert not np.shares_memory(transposed, copied)
    free = base.reshape(6, 4)
    assert np.shares_memory(base, free)
    got = page.execute_script("""
        const lab = window.strideLab, a = lab.makeArrayView([2, 3, 4], 8, 'C', 0);
        const t = lab.transposeView(a, null);
        const r = lab.reshapeView(a, [6, -1]);
        return [lab.reshapeView(t, [6, 4]), r.strides, lab.reshapeView(t, [4, 3, 2]) !== null];""")
    assert got[0] is None, "reshape of a transposed view must be reported as a copy"
    assert tuple(got[1]) == free.strides
    # Reshaping to the same shape is always a view, even for a non-contiguous array.
    assert got[2] is True and np.shares_memory(transposed, transposed.reshape(4, 3, 2))


def _random_slice(n: int, rng) -> tuple[str, slice | int]:
    while True:
        kind = rng.integers(4)
        if kind == 0:
            return ":", slice(None)
        if kind == 1:
            i = int(rng.integers(-n, n))
            return str(i), i
        start, stop = (int(x) if rng.random() < 0.7 else None for x in rng.integers(-n - 1, n + 2, size=2))
        step = int(rng.choice([-3, -2, -1, 1, 2, 3]))
        s = slice(start, stop, step)
        if len(range(*s.indices(n))) > 0:
            text = ":".join("" if v is None else str(v) for v in (start, stop, step))
            return text, s


def _random_shape(size: int, rng) -> list[int]:
    ndim = int(rng.integers(1, 5))
    shape, left = [], size
    for _ in range(ndim - 1):
        divisors = [d for d in range(1, left + 1) if left % d == 0]
        d = int(rng.choice(divisors))
        shape.append(d)
        left //= d
    shape.append(left)
    rng.shuffle(shape)
    if rng.random() < 0.4:
        shape[int(rng.integers(len(shape)))] = -1
    return shape


def _random_chain(rng) -> dict:
    """A random base array and a chain of view operations, with NumPy's answer after every step."""
    shape = [int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 5)))]
    itemsize = int(rng.choice([1, 2, 4, 8]))
    order = str(rng.choice(["C", "F"]))
    view = numpy_base(shape, itemsize, order)
    memory = view
    ops, expected = [], []
    for _ in range(int(rng.integers(1, 6))):
        kinds = ["transpose", "slice", "reshape", "broadcast", "expand_dims", "squeeze"]
        kind = str(rng.choice(kinds if view.ndim > 0 else kinds[2:]))  # a 0-d view has nothing to slice
        copied = False
        if kind == "transpose":
            axes = rng.permutation(view.ndim).tolist() if rng.random() < 0.7 else None
            arg, new = axes, (view.T if axes is None else view.transpose(axes))
        elif kind == "slice":
            parts = [_random_slice(n, rng) for n in view.shape[: int(rng.integers(1, view.ndim + 1))]]
            if all(isinstance(p[1], int) for p in parts) and len(parts) == view.ndim:
                parts[-1] = (":", slice(None))  # keep an axis: a full integer index is a scalar, not a view
            arg, new = ", ".join(p[0] for p in parts), view[tuple(p[1] for p in parts)]
        elif kind == "reshape":
            arg = _random_shape(view.size, rng)
            new = view.reshape(arg)
            copied = not np.shares_memory(view, new)
        elif kind == "broadcast":
            target = [n if n != 1 or rng.random() < 0.3 else int(rng.integers(2, 4)) for n in view.shape]
            if rng.random() < 0.5:
                target = [int(rng.integers(1, 4))] + target
            arg, new = target, np.broadcast_to(view, target)
        elif kind == "expand_dims":
            arg = int(rng.integers(-view.ndim - 1, view.ndim + 1))
            new = np.expand_dims(view, arg)
        else:
            ones = [k for k, n in enumerate(view.shape) if n == 1]
            arg = int(rng.choice(ones)) if ones and rng.random() < 0.5 else None
            new = view.squeeze(arg)
        if new.ndim > 6 or new.size > 4096:
            break
        if copied:
            memory = new
        view = new
        ops.append([kind, arg])
        expected.append({"shape": view.shape, "strides": view.strides, "offset": address(view) - address(memory),
                         "copied": copied, "c": view.flags["C_CONTIGUOUS"], "f": view.flags["F_CONTIGUOUS"]})
    return {"shape": shape, "itemsize": itemsize, "order": order, "ops": ops, "expected": expected}


def test_random_view_chains_match_numpy(page):
    rng = np.random.default_rng(2024)
    chains = [_random_chain(rng) for _ in range(300)]
    got = page.execute_script("""
        const lab = window.strideLab;
        return arguments[0].map(chain => {
          let v = lab.makeArrayView(chain.shape, chain.itemsize, chain.order, 0), buffers = 0;
          return chain.ops.map(([op, arg]) => {
            let copied = false;
            if (op === 'transpose') v = lab.transposeView(v, arg);
            else if (op === 'slice') v = lab.sliceView(v, lab.parseSlices(arg));
            else if (op === 'broadcast') v = lab.broadcastView(v, arg);
            else if (op === 'expand_dims') v = lab.expandDimsView(v, arg);
            else if (op === 'squeeze') v = lab.squeezeView(v, arg);
            else {
              const r = lab.reshapeView(v, arg);
              if (r === null) { copied = true; buffers += 1; v = lab.reshapeView(lab.contiguousCopy(v, buffers), arg); }
              else v = r;
            }
            return {shape: v.shape, strides: v.strides, offset: v.offset, copied,
                    c: lab.isCContiguous(v), f: lab.isFContiguous(v)};
          });
        });""", [{k: c[k] for k in ("shape", "itemsize", "order", "ops")} for c in chains])
    copies = 0
    for chain, steps in zip(chains, got):
        for (op, arg), want, have in zip(chain["ops"], chain["expected"], steps):
            context = f"{chain['shape']} {chain['order']} itemsize {chain['itemsize']}, {chain['ops']}, at {op}({arg})"
            assert tuple(have["shape"]) == want["shape"], context
            assert tuple(have["strides"]) == want["strides"], context
            assert have["offset"] == want["offset"], context
            assert have["copied"] == want["copied"], context
            assert (have["c"], have["f"]) == (want["c"], want["f"]), context
            copies += want["copied"]
    assert copies > 0, "the random chains should include reshapes that need a copy"


# ----------------------------------------------------------------------------------------------
# The page, driven through its inputs and buttons.
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, itemsize, order", [((2, 3, 4), 8, "C"), ((2, 3, 4), 8, "F"),
                                                     ((3, 5), 2, "F"), ((2, 2, 3, 2), 1, "C")])
def test_created_array_shows_numpy_strides(page, shape, itemsize, order):
    create_array(page, shape, itemsize, order)
    base = numpy_base(shape, itemsize, order)
    assert base.strides == np.empty(shape, DTYPES[itemsize], order=order).strides
    assert_view_matches(page, base, base)
    assert buffer_values(page, 0) == list(range(base.size))


def test_transpose_slice_and_copying_reshape_through_the_page(page):
    create_array(page, (2, 3, 4), 8, "C")
    base = numpy_base((2, 3, 4))

    apply_op(page, "transpose", "")
    assert_view_matches(page, base.T, base)
    assert read_view(page)["copied"] is False

    apply_op(page, "reshape", "6,4")
    copy = base.T.reshape(6, 4)
    assert not np.shares_memory(base, copy)
    shown = read_view(page)
    assert shown["copied"] is True and shown["buffer"] == 1
    assert "copy" in shown["message"].lower()
    assert_view_matches(page, copy, copy)
    assert buffer_values(page, 1) == copy.ravel().tolist()  # the new buffer holds the copy in C order
    cards = page.execute_script(
        "return [...document.querySelectorAll('.view-card')].map(c => [c.dataset.copied, c.dataset.buffer]);")
    assert cards == [["false", "0"], ["false", "0"], ["true", "1"]]

    apply_op(page, "slice", "::-2, 1:")
    assert_view_matches(page, copy[::-2, 1:], copy)

    # Back to the base array (click its history card): a contiguous reshape is a free view.
    click(page, "view-card-0")
    apply_op(page, "reshape", "-1,6")
    free = base.reshape(-1, 6)
    assert np.shares_memory(base, free)
    assert read_view(page)["copied"] is False
    assert_view_matches(page, free, base)


def test_slicing_moves_the_offset_like_numpy(page):
    create_array(page, (3, 4, 5), 2, "C")
    base = numpy_base((3, 4, 5), 2)
    apply_op(page, "slice", "1:, ::-1, 4:0:-2")
    view = base[1:, ::-1, 4:0:-2]
    assert_view_matches(page, view, base)
    assert read_view(page)["offset"] == address(view) - address(base) > 0
    apply_op(page, "slice", "1")
    assert_view_matches(page, view[1], base)
    apply_op(page, "transpose", "1,0")
    assert_view_matches(page, view[1].transpose(1, 0), base)


def test_broadcast_expand_dims_and_squeeze_through_the_page(page):
    create_array(page, (3,), 4, "C")
    base = numpy_base((3,), 4)
    apply_op(page, "expand", "1")
    assert_view_matches(page, np.expand_dims(base, 1), base)
    apply_op(page, "broadcast", "2,3,4")
    view = np.broadcast_to(np.expand_dims(base, 1), (2, 3, 4))
    assert_view_matches(page, view, base)
    zero_marks = page.execute_script("return document.querySelectorAll('#view-strides-bytes .stride-zero').length;")
    assert zero_marks == sum(s == 0 for s in view.strides) == 2
    apply_op(page, "slice", "0:1")
    apply_op(page, "squeeze", "")
    assert_view_matches(page, view[0:1].squeeze(), base)


def test_invalid_operation_shows_an_error_and_keeps_the_view(page):
    create_array(page, (2, 3), 8, "C")
    with pytest.raises(ValueError):
        numpy_base((2, 3)).reshape(4, 2)
    apply_op(page, "reshape", "4,2")
    shown = read_view(page)
    assert shown["kind"] == "error" and "cannot reshape" in shown["message"]
    assert shown["shape"] == (2, 3)


def test_clicking_an_element_highlights_its_buffer_cell(page):
    from selenium.webdriver.common.by import By
    create_array(page, (3, 4, 2), 8, "C")
    base = numpy_base((3, 4, 2))
    apply_op(page, "slice", "::-1, 1::2")
    apply_op(page, "transpose", "2,0,1")
    view = base[::-1, 1::2].transpose(2, 0, 1)
    assert_view_matches(page, view, base)
    for index in [(0, 0, 0), (1, 2, 1), (0, 1, 0)]:
        click(page, "logical-cell-" + "-".join(map(str, index)))
        byte = address(view) - address(base) + int(np.dot(index, view.strides))
        selected = page.find_elements(By.CSS_SELECTOR, ".buffer-cell.selected")
        assert [cell.get_attribute("id") for cell in selected] == [f"buffer-0-cell-{byte // view.itemsize}"]
        assert selected[0].find_element(By.CSS_SELECTOR, ".value").text == str(view[index])
        formula = page.find_element(By.ID, "address-formula")
        assert formula.get_attribute("data-address") == str(byte)
        assert f"= {byte} bytes" in formula.text
        click(page, "logical-cell-" + "-".join(map(str, index)))  # a second click unpins
        assert page.find_elements(By.CSS_SELECTOR, ".buffer-cell.selected") == []


def test_hovering_a_buffer_cell_highlights_every_element_that_maps_to_it(page):
    from selenium.webdriver import ActionChains
    from selenium.webdriver.common.by import By
    create_array(page, (3, 1), 8, "C")
    base = numpy_base((3, 1))
    apply_op(page, "broadcast", "2,3,4")
    view = np.broadcast_to(base, (2, 3, 4))
    for element in [0, 2]:
        ActionChains(page).move_to_element(page.find_element(By.ID, f"buffer-0-cell-{element}")).perform()
        highlighted = {ints(cell.get_attribute("data-index"))
                       for cell in page.find_elements(By.CSS_SELECTOR, ".logical-cell.highlight")}
        expected = {index for index in np.ndindex(view.shape)
                    if (address(view) - address(base) + int(np.dot(index, view.strides))) // 8 == element}
        assert highlighted == expected and len(expected) == 8


EXERCISE_ANSWERS = {
    1: ("np.zeros((3, 4), dtype=np.float32)", np.zeros((3, 4), dtype=np.float32).strides),
    2: ("a.transpose(2, 0, 1).strides", np.zeros((2, 3, 4)).transpose(2, 0, 1).strides),
    3: ("a[::2, ::-3].strides", np.zeros((4, 6), dtype=np.int16)[::2, ::-3].strides),
    4: ("np.broadcast_to(np.zeros(3, dtype=np.float32), (2, 4, 3))",
        np.broadcast_to(np.zeros(3, dtype=np.float32), (2, 4, 3)).strides),
}


def test_exercise_answers_are_marked_right_or_wrong(page):
    from selenium.webdriver.common.by import By

    def check(number: int, text: str) -> str:
        type_into(page, f"exercise-{number}-input", text)
        click(page, f"exercise-{number}-check")
        return page.find_element(By.ID, f"exercise-{number}-result").get_attribute("data-result")

    assert check(1, "no idea") == "invalid"
    assert check(1, str(EXERCISE_ANSWERS[1][1][:-1])) == "wrong"  # right numbers, missing an axis
    for number, (question, answer) in EXERCISE_ANSWERS.items():
        assert question in page.find_element(By.ID, f"exercise-{number}").text
        wrong = answer[::-1] if answer[::-1] != answer else tuple(s + 1 for s in answer)
        assert check(number, str(wrong)) == "wrong"
        assert check(number, ", ".join(map(str, answer))) == "correct"
        # "show in viewer" builds the exercise's array and operation in the viewer.
        click(page, f"exercise-{number}-show")
        assert read_view(page)["strides"] == answer


def test_walking_in_c_order_steps_through_the_buffer(page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    create_array(page, (2, 3), 8, "C")
    base = numpy_base((2, 3))
    apply_op(page, "transpose", "")
    view = base.T
    click(page, "walk-button")

    def selected_cells(driver):
        logical = [c.get_attribute("data-index") for c in driver.find_elements(By.CSS_SELECTOR, ".logical-cell.selected")]
        memory = [c.get_attribute("id") for c in driver.find_elements(By.CSS_SELECTOR, ".buffer-cell.selected")]
        return logical, memory

    # The walk visits view[0, 0], then view[0, 1]: one buffer cell apart by the transposed stride.
    for index in [(0, 0), (0, 1)]:
        element = (int(np.dot(index, view.strides)) + address(view) - address(base)) // view.itemsize
        expected = ([",".join(map(str, index))], [f"buffer-0-cell-{element}"])
        WebDriverWait(page, 3, poll_frequency=0.05).until(lambda d, want=expected: selected_cells(d) == want)
    click(page, "walk-button")  # stop
    assert page.find_element(By.ID, "walk-button").text == "walk in C order"
