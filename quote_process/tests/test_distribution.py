import re

from odoo.modules.module import get_manifest
from odoo.tests import tagged
from odoo.tools.misc import file_open

from .common import QuoteProcessCommon

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@tagged("post_install", "-at_install")
class TestDistribution(QuoteProcessCommon):
    """What an admin sees of the addon in the Apps list, and its changelog."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manifest = get_manifest("quote_process")
        cls.module = (
            cls.env["ir.module.module"]
            .with_user(cls.admin_user)
            .search([("name", "=", "quote_process")])
        )

    def test_apps_listing_icon_and_images(self):
        self.assertEqual(self.module.icon, "/quote_process/static/description/icon.png")
        self.assertTrue(self.manifest["images"], "The Apps store needs a main image.")
        for image in ["static/description/icon.png", *self.manifest["images"]]:
            with file_open(f"quote_process/{image}", "rb") as f:
                self.assertEqual(f.read(8), PNG_SIGNATURE, f"{image} is not a PNG")

    def test_apps_listing_keys(self):
        for key in ("summary", "description", "website", "support", "author"):
            self.assertTrue(self.manifest.get(key), f"manifest key {key} is empty")
        self.assertEqual(self.module.summary, self.manifest["summary"])

    def test_apps_listing_description_from_index_html(self):
        html = str(self.module.description_html)
        self.assertIn("Configuration in three steps", html)
        self.assertIn('src="/quote_process/static/description/icon.png"', html)
        self.assertNotIn("<script", html.lower())

    def test_changelog_has_an_entry_for_the_manifest_version(self):
        with file_open("quote_process/readme/HISTORY.md") as f:
            versions = re.findall(r"^## (19\.0\.\d+\.\d+\.\d+)\b", f.read(), re.M)
        self.assertEqual(
            versions[:1],
            [self.manifest["version"]],
            "readme/HISTORY.md must start with an entry for the manifest's version.",
        )
