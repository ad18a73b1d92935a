"""draw_dot and save_graph: the structure of the picture, rendering, refusals, missing `dot`."""

import re
import xml.etree.ElementTree as ET

import graphviz
import pytest
from lecture import lecture_L

from chainrule import Value, dot, ops
from chainrule.viz import (
    GraphTooLargeError,
    GraphvizNotFoundError,
    draw_dot,
    graph_size,
    op_label,
    save_graph,
)

LABEL = r'label=("(?:[^"\\]|\\.)*"|[^ \]]+)'
NODE = re.compile(r"^\t(v\d+(?:op)?) \[" + LABEL)
EDGE = re.compile(r"^\t(v\d+(?:op)?) -> (v\d+(?:op)?)(?: \[" + LABEL + ")?")


def unquote(label):
    return label[1:-1] if label and label.startswith('"') else label


def parse(graph):
    """(value records, op nodes, edges) from the DOT source."""
    records, ops, edges = {}, {}, []
    for line in graph.source.splitlines():
        if m := NODE.match(line):
            (ops if m.group(1).endswith("op") else records)[m.group(1)] = unquote(m.group(2))
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2), unquote(m.group(3))))
    return records, ops, edges


def svg_texts(path):
    """Every piece of text in an SVG, entities decoded (dot writes '-' as &#45;)."""
    root = ET.parse(path).getroot()
    return [t.text.strip() for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text]


def test_lecture_graph_structure_and_records():
    L = lecture_L()[0]
    L.backward()
    graph = draw_dot(L)
    assert isinstance(graph, graphviz.Digraph)
    records, ops, edges = parse(graph)
    assert len(records) == 7  # a b c e d f L
    assert sorted(ops.values()) == ["*", "*", "+"]
    # 3 op -> result edges, 6 operand -> op edges
    assert len(edges) == 9
    labels = " ".join(records.values())
    # The lecture's numbers, 4 decimals: L = -8, a.grad = 6, b.grad = -4, c.grad = -2, f.grad = 4
    for text in (
        "{ a | data 2.0000 | grad 6.0000 }",
        "{ b | data -3.0000 | grad -4.0000 }",
        "{ c | data 10.0000 | grad -2.0000 }",
        "{ e | data -6.0000 | grad -2.0000 }",
        "{ d | data 4.0000 | grad -2.0000 }",
        "{ f | data -2.0000 | grad 4.0000 }",
        "{ L | data -8.0000 | grad 1.0000 }",
    ):
        assert text in labels
    assert "rankdir=LR" in graph.source


def test_unset_label_is_empty_and_const_exponent_shows_in_op():
    x = Value(3.0, label="x")
    y = (x**2).tanh()
    graph = draw_dot(y, rankdir="TB")
    records, ops, _ = parse(graph)
    assert "{  | data 9.0000 | grad 0.0000 }" in records.values()
    assert set(ops.values()) == {"**2", "tanh"}
    assert "rankdir=TB" in graph.source
    assert len(records) == 3  # the exponent 2 is not a node


def test_reuse_draws_one_arrow_per_use():
    a = Value(3.0, label="a")
    b = a + a
    records, ops, edges = parse(draw_dot(b))
    (a_id,) = [k for k, v in records.items() if "{ a |" in v]
    (op_id,) = ops
    assert edges.count((a_id, op_id, None)) == 2


def test_dot_op_is_readable_with_slot_labels():
    w = [Value(0.5, label="w1"), Value(-1.0, label="w2")]
    x = [Value(1.0, label="x1"), Value(2.0, label="x2")]
    out = dot(w, x, Value(0.1, label="b"))
    records, ops, edges = parse(draw_dot(out))
    assert list(ops.values()) == ["Σ w·x + b"]
    assert sorted(e[2] for e in edges if e[2]) == ["b", "w1", "w2", "x1", "x2"]
    assert len(records) == 6


def test_custom_op_without_name_links_operands_to_result():
    a = Value(2.0, label="a")
    out = Value(a.data * 2, (a,))
    records, ops, edges = parse(draw_dot(out))
    assert ops == {}
    assert len(edges) == 1 and len(records) == 2


def test_same_graph_same_source():
    assert draw_dot(lecture_L()[0]).source == draw_dot(lecture_L()[0]).source


def test_svg_contains_each_label_data_and_grad(tmp_path):
    L = lecture_L()[0]
    L.backward()
    path = save_graph(L, tmp_path / "L.svg")
    texts = svg_texts(path)
    for label, data, grad in [
        ("a", 2, 6),
        ("b", -3, -4),
        ("c", 10, -2),
        ("e", -6, -2),
        ("d", 4, -2),
        ("f", -2, 4),
        ("L", -8, 1),
    ]:
        assert label in texts
        assert f"data {data:.4f}" in texts
        assert f"grad {grad:.4f}" in texts
    assert texts.count("*") == 2 and texts.count("+") == 1
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_png_and_pdf_by_extension(tmp_path, suffix, magic):
    path = save_graph(lecture_L()[0], tmp_path / f"g{suffix}")
    assert path.read_bytes().startswith(magic)


def test_dot_source_needs_no_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    path = save_graph(lecture_L()[0], tmp_path / "g.dot")
    assert path.read_text().startswith("digraph {")


def test_labels_with_record_syntax_render_as_typed(tmp_path):
    x = Value(1.0, label='odd {label} | <with> "quotes" and \\ backslash')
    y = x.exp()
    y.label = "y"
    texts = svg_texts(save_graph(y, tmp_path / "odd.svg"))
    assert 'odd {label} | <with> "quotes" and \\ backslash' in texts


def test_refuses_large_graph_with_count_and_advice():
    x = Value(1.0, label="x")
    y = x
    for _ in range(200):
        y = y * 1.0001  # 2 new values each: the product and the constant
    n = graph_size(y)
    assert n == 401
    with pytest.raises(GraphTooLargeError) as info:
        draw_dot(y)
    message = str(info.value)
    assert "401" in message and "300" in message
    assert "sub-expression" in message and "force=True" in message
    assert len(parse(draw_dot(y, force=True))[0]) == 401
    assert len(parse(draw_dot(y, max_nodes=500))[0]) == 401
    with pytest.raises(GraphTooLargeError):
        draw_dot(y, max_nodes=10)


def test_deep_graph_needs_no_recursion():
    x = Value(0.5, label="x")
    y = x
    for _ in range(5000):
        y = y.tanh()
    records, ops, edges = parse(draw_dot(y, force=True))
    assert len(records) == 5001 and len(ops) == 5000 and len(edges) == 10000


def test_missing_dot_binary_explains_and_saves_source(tmp_path, monkeypatch):
    target = tmp_path / "g.svg"
    target.write_text("old picture")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` anywhere
    with pytest.raises(GraphvizNotFoundError) as info:
        save_graph(lecture_L()[0], target)
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert str(tmp_path / "g.dot") in message
    assert target.read_text() == "old picture"  # nothing overwritten half-way
    source = (tmp_path / "g.dot").read_text()
    assert source.startswith("digraph {") and "data -8.0000" in source


def test_bad_arguments(tmp_path):
    L = lecture_L()[0]
    with pytest.raises(ValueError, match="'.jpg'"):
        save_graph(L, tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="no extension"):
        save_graph(L, tmp_path / "g")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_graph(L, tmp_path / "missing" / "g.svg")
    with pytest.raises(TypeError, match="Value"):
        draw_dot(3.0)
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(L, rankdir="UP")
    with pytest.raises(ValueError, match="'nope'"):
        draw_dot(L, format="nope")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_dot(L, max_nodes=0)
    with pytest.raises(TypeError, match="Digraph"):
        save_graph(1.5, tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


def test_jupyter_shows_it_inline():
    bundle = draw_dot(lecture_L()[0])._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_save_existing_digraph(tmp_path):
    graph = draw_dot(lecture_L()[0])
    assert "data -8.0000" in " ".join(svg_texts(save_graph(graph, tmp_path / "g.svg")))


def test_op_labels_come_from_the_op_table():
    cube = ops.define_op("cube_viz", lambda x: x**3, lambda x, out: 3 * x**2, formula="3·x²")
    try:
        a, b = Value(2.0, label="a"), Value(3.0, label="b")
        q = ops.TABLE["/"](cube(a), b.sin())
        _, op_names, edges = parse(draw_dot(q))
        assert sorted(op_names.values()) == ["/", "cube_viz", "sin"]
        assert op_label(q) == ops.TABLE["/"].symbol
        assert sorted(e[2] for e in edges if e[2]) == ["left", "right"]  # order matters for /
    finally:
        del ops.TABLE["cube_viz"]


def test_division_shows_its_reciprocal_as_1_over_x_not_a_power():
    a, b = Value(6.0, label="a"), Value(3.0, label="b")
    c = a / b  # a * b**-1, as the lecture computes it
    records, op_names, _ = parse(draw_dot(c))
    assert sorted(op_names.values()) == ["*", "1/x"]
    assert op_label(b**-1) == "1/x" and op_label(b**2) == "**2"
    assert "**-1" not in draw_dot(c).source
