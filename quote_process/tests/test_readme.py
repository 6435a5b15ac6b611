"""README.rst is the one its readme/*.md fragments give (tools/gen_addon_readme.py
of the repository; "make readme" writes it)."""

import importlib.util
from pathlib import Path

from odoo.tests import BaseCase, tagged

ADDON = Path(__file__).resolve().parent.parent
GENERATOR = ADDON.parent / "tools" / "gen_addon_readme.py"


@tagged("post_install", "-at_install")
class TestReadme(BaseCase):
    def test_readme_is_generated_from_fragments(self):
        if not GENERATOR.is_file():
            self.skipTest("not a checkout of the repository: no README generator")
        spec = importlib.util.spec_from_file_location("gen_addon_readme", GENERATOR)
        generator = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(generator)
        expected = generator.generate(ADDON)
        self.assertEqual(generator.rst_problems(expected), [])
        self.assertEqual(
            (ADDON / "README.rst").read_text(encoding="utf-8"),
            expected,
            "README.rst differs from readme/*.md: run 'make readme' and commit it",
        )
