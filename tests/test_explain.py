"""nncourse.explain and the messages of `nncourse check`: what a learner reads when a test fails."""
import linecache

import numpy as np

from nncourse import check, explain
from nncourse.asserts import assert_close

LEARNER = "<ipython-input-3-learner>"
TEST = "<ipython-input-4-test>"


def cell(source, filename, ns):
    """Run ``source`` as IPython runs a notebook cell: compiled under a cell's file name."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), ns)


def raised(test_source, learner_source):
    ns = {"np": np}
    cell(learner_source, LEARNER, ns)
    try:
        cell(test_source, TEST, ns)
    except Exception as exc:
        return exc
    raise AssertionError("the test cell raised nothing")


WRONG_LAYER = """\
def dense_forward(X, W, b):
    X = np.asarray(X, dtype=float)
    return X @ W + b
"""


def test_an_error_in_the_learners_function_names_it_with_the_shapes_and_the_line():
    exc = raised("dense_forward(np.ones((4, 3)), np.ones((2, 3)), 0.5)", WRONG_LAYER)
    text = explain.message(exc)
    assert text.startswith("matmul: Input operand 1 has a mismatch"), text
    assert "in your dense_forward(X=array of shape (4, 3), W=array of shape (2, 3), b=0.5)" in text
    assert "at your line 3: return X @ W + b" in text


def test_the_learners_inner_function_gives_the_line_and_the_outer_one_the_call():
    learner = WRONG_LAYER + "def mlp(X, params):\n    return dense_forward(X, *params[0])\n"
    exc = raised("mlp(np.ones((5, 3)), [(np.ones((2, 3)), np.zeros(2))])", learner)
    text = explain.message(exc)
    assert "in your mlp(X=array of shape (5, 3), params=list of 1 items)" in text
    assert "at your line in dense_forward, 3: return X @ W + b" in text


def test_an_error_in_the_test_itself_or_a_failed_assertion_is_left_as_it_is():
    exc = raised("np.ones(3) @ np.ones(4)", WRONG_LAYER)
    assert explain.explain(exc) is None
    exc = raised("assert_close(dense_forward(np.ones((1, 2)), np.ones((2, 2)), 0.0), [1.0, 1.0], 'y')",
                 WRONG_LAYER.replace("X @ W + b", "X @ W.T + b") + "from nncourse.asserts import assert_close\n")
    assert isinstance(exc, AssertionError) and explain.explain(exc) is None


def test_the_hidden_tests_code_never_appears_in_the_explanation():
    hidden = "secret_reference = np.ones((7, 3)); dense_forward(secret_reference, np.ones((5, 3)), 0.0)"
    ns = {"np": np}
    cell(WRONG_LAYER, LEARNER, ns)
    try:
        exec(compile(hidden, "<hidden tests>", "exec"), ns)
    except ValueError as exc:
        text = explain.message(exc, skip_first=False)
    assert "in your dense_forward(X=array of shape (7, 3)" in text
    assert "secret_reference" not in text


def test_arguments_are_described_by_shape_and_numbers_by_value():
    assert explain.describe(np.zeros((2, 3))) == "array of shape (2, 3)"
    assert explain.describe(0.123456) == "0.1235" and explain.describe(3) == "3"
    assert explain.describe([1, 2]) == "list of 2 items" and explain.describe(None) == "None"


def long_array_message():
    expected = np.arange(60.0).reshape(6, 10)
    actual = expected.copy()
    actual[5, 9] = -1.0
    try:
        assert_close(actual, expected, "conv2d_forward(x, weight, bias)")
    except AssertionError as exc:
        return f"AssertionError: {exc}"


def test_a_long_array_message_is_shown_whole_in_the_table():
    message = long_array_message()
    assert len(message) > 400
    from nncourse.autograde import CellScore, NotebookResult, Status
    result = NotebookResult("ann", "cnn", Status.GRADED, score=0.0, max_score=2, tests=[
        CellScore("test_conv2d_forward", 0.0, 2, message)])
    text = check.table(result, "cnn.ipynb (07-cnn)")
    for line in message.splitlines():
        assert line.strip() in text, f"the table lost: {line}"
    assert "got:" in text and "first difference at index (5, 9): expected 59, got -1" in text
    # continuation lines sit under the failure column, not at the left margin
    row = next(l for l in text.splitlines() if l.startswith("test_conv2d_forward"))
    column = row.index("AssertionError")
    got = next(l for l in text.splitlines() if "got:" in l)
    assert got[:column].strip() == "", got


def test_the_graders_failure_message_keeps_the_whole_error():
    import nbformat
    from nncourse.autograde import score
    ename, evalue = long_array_message().split(": ", 1)
    out = nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])
    cell = nbformat.v4.new_code_cell("test", outputs=[out])
    assert score.error_line(cell) == long_array_message()
