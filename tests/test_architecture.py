"""The import rules of docs/architecture.md, checked on the source (no app needed).

- Only `shop/payments/` imports the Stripe SDK or the emulator.
- The ground (the modules directly in `shop/`) imports no area; `shop/__init__.py` and
  `shop/cli.py` are where the areas are put together, so they may.
- No area's views import another area's views.
- Services (the rules) never touch the request, the session, flash messages or templates.
- Areas depend one way: the graph of imports between areas has no cycle, and each area
  imports only areas before it in `LAYERS`.
"""

import ast
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parent.parent / "shop"
AREAS = {path.name for path in SHOP.iterdir() if (path / "__init__.py").exists()}
COMPOSITION = {"__init__.py", "cli.py"}
VIEWS = "routes"
SERVICE_MODULES = {
    "services",
    "lifecycle",
    "settlement",
    "shipping",
    "refunds",
    "stock",
    "outbox",
    "notices",
    "worker",
}
REQUEST_BOUND = {"request", "session", "flash", "render_template", "g"}
#: The allowed direction, first to last: an area may import the areas before it, never one
#: after it. Notifications and payments are leaves; catalog -> cart -> orders (owning the
#: stock holds) -> checkout is the chain a newcomer draws; account, admin and the JSON API
#: sit on top.
LAYERS = (
    "notifications",
    "payments",
    "auth",
    "catalog",
    "cart",
    "favourites",
    "orders",
    "promotions",
    "checkout",
    "account",
    "admin",
    "api",
)


def module_of(path: Path) -> str:
    """`shop/cart/routes.py` -> `shop.cart.routes`."""
    parts = path.relative_to(SHOP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, names imported from it) for each import in the file."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_of(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [alias.name for alias in node.names]
            found.append((module, names))
            # `from . import payments` imports the module shop.payments
            found += [(f"{module}.{name}", []) for name in names]
    return found


def sources() -> list[Path]:
    """Every Python file of the package."""
    return sorted(SHOP.rglob("*.py"))


def area_of(module: str) -> str | None:
    """The area a `shop.<area>...` module belongs to, if any."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "shop" and parts[1] in AREAS:
        return parts[1]
    return None


def test_only_payments_imports_stripe_or_the_emulator():
    offenders = [
        f"{path.relative_to(SHOP.parent)} imports {module}"
        for path in sources()
        if area_of(module_of(path)) != "payments"
        for module, _ in imports(path)
        if module == "stripe" or module.startswith("stripe.") or ".emulator" in module
    ]
    assert offenders == []


def test_the_ground_imports_no_area():
    ground = [path for path in SHOP.glob("*.py") if path.name not in COMPOSITION]
    assert ground, "no ground modules found"
    offenders = [
        f"{path.name} imports {module}"
        for path in ground
        for module, _ in imports(path)
        if area_of(module)
    ]
    assert offenders == []


def test_no_view_imports_another_area_s_view():
    offenders = []
    for path in sources():
        own = area_of(module_of(path))
        if own is None or path.stem != VIEWS:
            continue
        for module, _ in imports(path):
            other = area_of(module)
            if other and other != own and module.split(".")[-1] == VIEWS:
                offenders.append(f"{module_of(path)} imports {module}")
    assert offenders == []


@pytest.mark.parametrize("path", [p for p in sources() if p.stem in SERVICE_MODULES], ids=str)
def test_services_never_touch_the_request_or_templates(path):
    touched = [
        f"{module}.{name}"
        for module, names in imports(path)
        if module == "flask"
        for name in names
        if name in REQUEST_BOUND
    ]
    assert touched == []


def area_imports() -> dict[tuple[str, str], list[str]]:
    """(importing area, imported area) -> the imports that make that edge."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sources():
        own = area_of(module_of(path))
        for module, _ in imports(path):
            other = area_of(module)
            if own and other and other != own:
                edges.setdefault((own, other), []).append(f"{module_of(path)} imports {module}")
    return edges


def cycles(edges) -> list[list[str]]:
    """Every cycle of the graph, each once, as the areas along it (a depth-first search
    from each area, keeping cycles that start at their smallest area)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    found = []

    def walk(path: list[str]) -> None:
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == path[0]:
                found.append([*path, nxt])
            elif nxt not in path and nxt > path[0]:
                walk([*path, nxt])

    for start in sorted(graph):
        walk([start])
    return found


def test_areas_depend_one_way_with_no_cycle():
    edges = area_imports()
    assert cycles(edges) == []
    against = [
        f"{a} -> {b} goes against LAYERS: {where[0]}"
        for (a, b), where in sorted(edges.items())
        if LAYERS.index(b) > LAYERS.index(a)
    ]
    assert against == []


def test_every_area_has_its_place_in_the_layers():
    assert sorted(LAYERS) == sorted(AREAS)


def test_the_cycle_finder_finds_a_cycle():
    edges = {("cart", "catalog"): [], ("catalog", "cart"): [], ("orders", "cart"): []}
    assert cycles(edges) == [["cart", "catalog", "cart"]]
    three = {("a", "b"): [], ("b", "c"): [], ("c", "a"): [], ("c", "d"): []}
    assert cycles(three) == [["a", "b", "c", "a"]]


def test_the_rules_see_the_code_they_check():
    # The checks above would pass on an empty tree; make sure they read the real one.
    assert {"payments", "orders", "cart", "catalog", "checkout", "auth"} <= AREAS
    assert ("orders", "cart") in area_imports()  # settlement takes bought units out
    cart_views = imports(SHOP / "cart" / "routes.py")
    assert ("shop.cart.services", []) in cart_views or any(
        module == "shop.cart" and "services" in names for module, names in cart_views
    )
