"""The Slicer module file and its .ui, checked without Slicer.

The slicer-core wheel has no Qt and no parameterNodeWrapper, so MedRestore.py is read with
``ast`` instead of imported; the .ui is read as XML.
"""
from __future__ import annotations

import ast
import py_compile
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE_PATH = ROOT / "MedRestore" / "MedRestore.py"
GUI_DIR = ROOT / "MedRestore" / "MedRestoreGui"
UI_PATH = ROOT / "MedRestore" / "Resources" / "UI" / "MedRestore.ui"
SOURCE_FILES = sorted(
    p for folder in (ROOT / "MedRestore", ROOT / "MedRestoreLib") for p in folder.rglob("*.py")
    if "__pycache__" not in p.parts
)
MRML_WIDGETS = {"qMRMLNodeComboBox", "qMRMLTableView"}
QT_WIDGETS = {"QWidget", "QLabel", "QComboBox", "QPushButton", "QProgressBar", "QSpinBox", "QLineEdit",
              "QCheckBox", "QPlainTextEdit"}


# ----------------------------------------------------------------------------- helpers

def decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return getattr(node, "id", "")


def parameter_node_fields(path: Path = MODULE_PATH) -> dict[str, ast.AnnAssign]:
    """{field: annotated assignment} of the class decorated with ``parameterNodeWrapper``."""
    tree = ast.parse(path.read_text())
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)
               and any(decorator_name(d) == "parameterNodeWrapper" for d in n.decorator_list)]
    assert len(classes) == 1, "expected one @parameterNodeWrapper class in MedRestore.py"
    assert classes[0].name == "MedRestoreParameterNode"
    return {n.target.id: n for n in classes[0].body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}


def module_constants(path: Path = MODULE_PATH) -> dict[str, object]:
    """Module-level ``NAME = ...`` assignments, so Choice(NAME) can be resolved.

    Literals are read as they are; the choice lists built from the engine's enums
    (``[m.value for m in FillMethod]``) are evaluated with those enums, as Slicer would.
    """
    from MedRestoreLib import options
    from MedRestoreLib.background import run as background_run

    namespace = {"FillMethod": options.FillMethod, "DetectorMethod": options.DetectorMethod,
                 "Device": options.Device, "FillOptions": options.FillOptions,
                 "DetectOptions": options.DetectOptions, "_run": background_run}
    constants = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                try:
                    constants[node.targets[0].id] = eval(compile(ast.Expression(node.value), str(path), "eval"),
                                                         dict(namespace))
                except (NameError, TypeError, AttributeError):
                    pass
    return constants


def field_default(field: ast.AnnAssign):
    """The default of a parameter-node field: a literal, or a module constant (read from the engine)."""
    if isinstance(field.value, ast.Name):
        return module_constants()[field.value.id]
    return ast.literal_eval(field.value)


def choice_values(field: ast.AnnAssign) -> list | None:
    """The values of ``Choice([...])`` inside an ``Annotated[...]`` annotation, else None."""
    for node in ast.walk(field.annotation):
        if isinstance(node, ast.Call) and decorator_name(node) == "Choice" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Name):
                return list(module_constants()[arg.id])
            return list(ast.literal_eval(arg))
    return None


def base_type(field: ast.AnnAssign) -> str:
    """The annotated type's name: ``Annotated[str, ...]`` gives str, ``Union[...]`` Union."""
    annotation = field.annotation
    if isinstance(annotation, ast.Subscript) and decorator_name(annotation.value) == "Annotated":
        inner = annotation.slice
        inner = getattr(inner, "value", inner)  # Python 3.8 wraps it in ast.Index
        annotation = inner.elts[0] if isinstance(inner, ast.Tuple) else inner
    if isinstance(annotation, ast.Subscript):
        return decorator_name(annotation.value)
    return decorator_name(annotation)


def node_classes(field: ast.AnnAssign) -> list[str]:
    """MRML classes a node field takes: [X] for X, the members of Union[X, Y, None]."""
    if base_type(field) != "Union":
        return [base_type(field)]
    inner = getattr(field.annotation.slice, "value", field.annotation.slice)
    return [decorator_name(e) for e in inner.elts if decorator_name(e) not in ("", "None")]


def within_range(field: ast.AnnAssign):
    """(minimum, maximum) of ``WithinRange(a, b)`` in the annotation, else None."""
    for node in ast.walk(field.annotation):
        if isinstance(node, ast.Call) and decorator_name(node) == "WithinRange":
            return tuple(ast.literal_eval(a) for a in node.args)
    return None


def widget_number(widget: ET.Element, name: str):
    for prop in widget.findall("property"):
        if prop.get("name") == name:
            return int(prop.findtext("number"))
    return None


def gui_sources() -> str:
    """The panel's code: the module file and its Qt helpers."""
    return "\n".join(p.read_text() for p in [MODULE_PATH] + sorted(GUI_DIR.glob("*.py")))


def ui_parameter_widgets(path: Path = UI_PATH) -> dict[str, ET.Element]:
    """{SlicerParameterName: widget element} from the .ui file."""
    widgets = {}
    for widget in ET.parse(path).iter("widget"):
        for prop in widget.findall("property"):
            if prop.get("name") == "SlicerParameterName":
                name = prop.findtext("string")
                assert name not in widgets, f"two widgets bound to {name}"
                widgets[name] = widget
    return widgets


def combo_items(widget: ET.Element) -> list[str]:
    return [item.find("property").findtext("string") for item in widget.findall("item")]


def node_types(widget: ET.Element) -> list[str]:
    for prop in widget.findall("property"):
        if prop.get("name") == "nodeTypes":
            return [s.text for s in prop.iter("string")]
    return []


def union_annotations_evaluated_at_runtime(tree: ast.Module) -> list[int]:
    """Lines of ``X | Y`` annotations that Python 3.9 evaluates (and fails on).

    Without ``from __future__ import annotations`` argument/return annotations and module- or
    class-level variable annotations are evaluated; those inside function bodies are not.
    """
    if any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
           and any(a.name == "annotations" for a in n.names) for n in tree.body):
        return []
    annotations = []

    def visit(body, in_function):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
                    if arg is not None and arg.annotation is not None:
                        annotations.append(arg.annotation)
                if node.returns is not None:
                    annotations.append(node.returns)
                visit(node.body, True)
            elif isinstance(node, ast.ClassDef):
                visit(node.body, False)
            elif isinstance(node, ast.AnnAssign) and not in_function:
                annotations.append(node.annotation)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    visit(getattr(node, field, []) or [], in_function)

    visit(tree.body, False)
    return sorted({a.lineno for a in annotations for n in ast.walk(a)
                   if isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr)})


# ----------------------------------------------------------------------------- (a) .ui ↔ fields

def test_parameter_node_has_the_documented_fields():
    assert list(parameter_node_fields()) == [
        "inputVolume", "knownMask", "outputVolume", "fillMethod", "detector", "device",
        "imputeSlicesInput", "sliceFactor", "sliceMissing", "sliceModel",
        "imputeSequenceInput", "sequenceMissing", "sequenceModel", "forecast"]


def test_every_ui_parameter_name_is_a_parameter_node_field():
    unknown = sorted(set(ui_parameter_widgets()) - set(parameter_node_fields()))
    assert not unknown, f"SlicerParameterName in the .ui without a MedRestoreParameterNode field: {unknown}"


def test_every_parameter_node_field_has_a_widget():
    unbound = sorted(set(parameter_node_fields()) - set(ui_parameter_widgets()))
    assert not unbound, f"MedRestoreParameterNode fields without a .ui widget: {unbound}"


def test_widget_kinds_fit_the_field_types():
    # The pairs parameterNodeWrapper connects (slicer/parameterNodeWrapper/guiConnectors.py).
    widgets = ui_parameter_widgets()
    for name, field in parameter_node_fields().items():
        kind = base_type(field)
        widget = widgets[name]
        if kind.startswith("vtkMRML") or kind == "Union":
            assert widget.get("class") == "qMRMLNodeComboBox", name
            assert node_types(widget) == node_classes(field), name
        elif choice_values(field) is not None:
            assert widget.get("class") == "QComboBox", name
        elif kind == "int":
            assert widget.get("class") == "QSpinBox", name
        else:
            assert (kind, widget.get("class")) == ("str", "QLineEdit"), name


def test_spin_boxes_allow_the_field_range_and_defaults_lie_inside():
    widgets = ui_parameter_widgets()
    for name, field in parameter_node_fields().items():
        if base_type(field) != "int":
            continue
        low, high = within_range(field)
        assert (widget_number(widgets[name], "minimum"), widget_number(widgets[name], "maximum")) == (low, high)
        assert low <= ast.literal_eval(field.value) <= high, name


def test_optional_node_fields_allow_none_in_their_combo_box():
    widgets = ui_parameter_widgets()
    for name in ("knownMask", "outputVolume", "imputeSlicesInput", "imputeSequenceInput"):
        none = [p for p in widgets[name].findall("property") if p.get("name") == "noneEnabled"]
        assert none and none[0].findtext("bool") == "true", name


def test_mrml_widgets_get_the_scene_and_are_declared():
    root = ET.parse(UI_PATH).getroot()
    top = root.find("widget")
    assert top.get("class") == "qMRMLWidget"
    mrml = {w.get("name") for w in root.iter("widget") if w.get("class") in MRML_WIDGETS}
    connected = {c.findtext("receiver") for c in root.iter("connection")
                 if c.findtext("sender") == top.get("name")
                 and c.findtext("signal") == "mrmlSceneChanged(vtkMRMLScene*)"
                 and c.findtext("slot") == "setMRMLScene(vtkMRMLScene*)"}
    assert mrml and mrml <= connected, f"not given the scene: {sorted(mrml - connected)}"
    used = {w.get("class") for w in root.iter("widget")}
    declared = {c.findtext("class") for c in root.iter("customwidget")}
    assert used - QT_WIDGETS <= declared


PANEL_CONTROLS = ("applyButton", "progressBar", "statusLabel", "logTextEdit", "deviceInfoLabel",
                  "beforeAfterButton", "showProbabilityCheckBox", "reportTableView",
                  "imputeSlicesButton", "imputeSequenceButton", "advancedCollapsibleButton")


def test_ui_has_the_controls_the_panel_code_uses():
    names = {w.get("name") for w in ET.parse(UI_PATH).iter("widget")}
    assert set(PANEL_CONTROLS) <= names
    used = set(re.findall(r"\bui\.(\w+)", gui_sources()))
    assert set(PANEL_CONTROLS) <= used
    assert used <= names, f"the panel code uses widgets the .ui lacks: {sorted(used - names)}"


def test_apply_turns_into_cancel_and_there_is_no_separate_cancel_button():
    # The text and enabled states come from PanelState (Testing/background/test_panel_state.py).
    names = {w.get("name") for w in ET.parse(UI_PATH).iter("widget")}
    assert "cancelButton" not in names
    source = MODULE_PATH.read_text()
    assert "self.ui.applyButton.text = state.apply_text" in source and "self.runPanel.cancel()" in source
    assert "self.ui.applyButton.enabled = state.apply_enabled" in source


def test_the_panel_never_imports_torch_or_asks_it_about_devices():
    # A CUDA context in Slicer's process would hold GPU memory for the whole session.
    for path in [MODULE_PATH] + sorted(GUI_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert "torch" not in imported, path.name
        assert not any(name.endswith("device_description") for name in imported
                       if "summary_from_json" not in path.read_text()), path.name
        assert "describe_devices(" not in path.read_text(), path.name


def test_the_panel_connects_its_parameter_node_through_one_binding():
    source = MODULE_PATH.read_text()
    assert "ParameterBinding(MedRestoreParameterNode, self.ui)" in source
    assert "connectGui(" not in source and "disconnectGui(" not in source


def test_the_panel_runs_the_cli_in_a_child_process_not_in_slicer():
    # Apply must go through the background runner; calling the logic's restore() in the
    # widget would freeze Slicer for the whole run.
    source = MODULE_PATH.read_text()
    assert "prepare_restore(" in source and ".restore(" not in source.split("class MedRestoreWidget")[1]
    runner = (GUI_DIR / "process_runner.py").read_text()
    assert "blocking=False" in runner and "qt.QProcess()" in runner and "stop_process_tree" in runner


# ----------------------------------------------------------------------------- (b) compiles on 3.9

@pytest.mark.parametrize("path", SOURCE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_source_compiles(path, tmp_path):
    py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)


@pytest.mark.parametrize("path", SOURCE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_source_parses_with_python_3_9_grammar(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))
    lines = union_annotations_evaluated_at_runtime(tree)
    assert not lines, f"{path.name}: 'X | Y' annotations fail on Python 3.9 at lines {lines}; " \
                      "add 'from __future__ import annotations' or use Optional/Union"


def test_python_3_9_checks_can_fail():
    with pytest.raises(SyntaxError):
        ast.parse("match x:\n    case 1:\n        pass\n", feature_version=(3, 9))
    assert union_annotations_evaluated_at_runtime(ast.parse("def f(a: int | None): pass")) == [1]
    assert union_annotations_evaluated_at_runtime(ast.parse("def f():\n    a: int | None = 1")) == []
    future = "from __future__ import annotations\ndef f(a: int | None): pass"
    assert union_annotations_evaluated_at_runtime(ast.parse(future)) == []


# ----------------------------------------------------------------------------- (c) choices ↔ items

CHOICE_FIELDS = ["fillMethod", "detector", "device", "sliceModel", "sequenceModel"]


@pytest.mark.parametrize("name", CHOICE_FIELDS)
def test_choice_combo_boxes_are_filled_from_the_choices_only(name):
    # parameterNodeWrapper clears a Choice combo box and adds the choices, so items typed into
    # the .ui would only go stale when the engine gains a method.
    field = parameter_node_fields()[name]
    choices = choice_values(field)
    assert choices, f"{name} needs Annotated[str, Choice([...])]"
    assert combo_items(ui_parameter_widgets()[name]) == []
    assert field_default(field) in choices, f"default of {name} is not one of its choices"


def test_choices_come_from_the_engine():
    from MedRestoreLib.background.run import SEQUENCE_MODELS, SLICE_MODELS
    from MedRestoreLib.options import DetectorMethod, Device, FillMethod

    fields = parameter_node_fields()
    assert choice_values(fields["fillMethod"]) == [m.value for m in FillMethod]  # "gan" included once added
    assert {"biharmonic3d", "biharmonic2d", "adjacent-slices", "neighbour-median", "telea"} <= \
        set(choice_values(fields["fillMethod"]))
    from MedRestoreLib.options import FillOptions

    # the engine's default: the self-validated choice per region
    assert field_default(fields["fillMethod"]) == FillOptions().method.value == "auto"
    assert choice_values(fields["detector"]) == [m.value for m in DetectorMethod]
    assert choice_values(fields["device"]) == [d.value for d in Device] == ["auto", "cpu", "cuda"]
    assert choice_values(fields["sliceModel"]) == list(SLICE_MODELS) == [
        "auto", "lstm", "srn", "linear", "cubic", "gmm"]
    assert choice_values(fields["sequenceModel"]) == list(SEQUENCE_MODELS) == ["auto", "lstm", "srn", "linear"]


def test_choice_defaults_are_the_engine_s_defaults_read_not_typed():
    # The panel once opened with slice model "lstm" while the engine's default was "srn".
    from MedRestoreLib.imputation.slices import DEFAULT_SLICE_MODEL
    from MedRestoreLib.imputation.time_series import DEFAULT_SEQUENCE_MODEL
    from MedRestoreLib.options import DetectOptions, FillOptions

    fields = parameter_node_fields()
    expected = {"fillMethod": FillOptions().method.value, "detector": DetectOptions().method.value,
                "sliceModel": DEFAULT_SLICE_MODEL.value, "sequenceModel": DEFAULT_SEQUENCE_MODEL.value}
    for name, value in expected.items():
        assert isinstance(fields[name].value, ast.Name), f"{name}: a typed default drifts from the engine's"
        assert field_default(fields[name]) == value, name


def test_choices_are_accepted_by_the_engine_options():
    # The panel offers only what RestoreOptions.from_dict accepts (options.py enums).
    options = pytest.importorskip("MedRestoreLib.options")
    fields = parameter_node_fields()
    for name, enum_type in (("fillMethod", options.FillMethod), ("detector", options.DetectorMethod),
                            ("device", options.Device)):
        accepted = {member.value for member in enum_type}
        offered = set(choice_values(fields[name]))
        assert offered <= accepted, f"{name}: {sorted(offered - accepted)} unknown to {enum_type.__name__}"


def test_the_self_test_runs_classical_methods_in_background_runs_and_can_skip():
    # In ctest (testing mode) nothing installs torch; a restore in Slicer's main thread would
    # freeze the application. Every run goes through prepare_restore + the child process.
    from MedRestoreLib.background.run import needs_torch

    path = GUI_DIR / "self_test.py"
    tree = ast.parse(path.read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    names = [decorator_name(call) for call in calls]
    assert "restore" not in names and names.count("prepare_restore") == 2
    for call in calls:
        if decorator_name(call) != "prepare_restore":
            continue
        keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords if isinstance(k.value, ast.Constant)}
        has_mask = len(call.args) >= 3
        assert not needs_torch("restore", detector=keywords.get("detector"), method=keywords.get("method"),
                               has_mask=has_mask), keywords
    assert "SkipTest" in path.read_text() and "missingPackages()" in path.read_text()
