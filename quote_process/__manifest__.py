{
    "name": "Quote Process",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "summary": "Managed quoting: rule-based default prices, discount authority and "
    "approvals, promises, follow-up reminders and lost-quote analysis",
    "description": """
Quote Process turns quoting into a managed process:

* a pricing engine gives every quote line a default price from rules on top of
  your pricelists, and explains how it got there;
* departures from that price need a reason, stay within each role's authority,
  or go to a manager for approval;
* what was promised on the opportunity flows into the quote and the order, and
  every eligible offer is shown to the customer;
* every sent quote is followed up, with a scheduled reminder and escalation;
* every lost quote gets a reason from a fixed list, and managers see the
  statistics.
""",
    "author": "Quote Process",
    "website": "https://github.com/quote-process/quote_process",
    "support": "support@quote-process.example.com",
    "images": ["static/description/banner.png"],
    "license": "LGPL-3",
    "depends": ["sale_management", "sale_crm"],
    "data": [
        "security/ir.model.access.csv",
        "security/quote_process_security.xml",
        "data/quote_deviation_reason_data.xml",
        "data/quote_discount_authority_data.xml",
        "data/mail_activity_type_data.xml",
        "data/crm_lost_reason_data.xml",
        "data/ir_cron.xml",
        "data/mail_template_data.xml",
        "wizard/quote_approval_reject_wizard_views.xml",
        "wizard/sale_order_discount_views.xml",
        "wizard/quote_lost_wizard_views.xml",
        "wizard/quote_response_wizard_views.xml",
        "wizard/quote_version_compare_views.xml",
        "views/res_config_settings_views.xml",
        "views/quote_deviation_reason_views.xml",
        "views/quote_discount_authority_views.xml",
        "views/crm_lost_reason_views.xml",
        "views/quote_pricing_rule_views.xml",
        "views/sale_order_views.xml",
        "views/quote_promise_views.xml",
        "views/quote_version_views.xml",
        "report/quote_offers_templates.xml",
        "report/quote_version_templates.xml",
        "report/quote_analysis_views.xml",
        "report/quote_analysis_version_views.xml",
        "report/quote_analysis_guidance_views.xml",
        "views/quote_process_menus.xml",
    ],
    "demo": [
        "demo/quote_pricing_rule_demo.xml",
        "demo/quote_process_demo.xml",
        "demo/quote_promise_demo.xml",
        "demo/quote_version_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "quote_process/static/src/batched_call/*",
            "quote_process/static/src/engine_price_field/*",
            "quote_process/static/src/price_guidance_field/*",
            "quote_process/static/src/price_conflict_widget/*",
        ],
        "web.assets_tests": [
            "quote_process/static/tests/tours/quote_engine_price_tour.js",
            "quote_process/static/tests/tours/quote_process_story_tours.js",
            "quote_process/static/tests/tours/quote_version_tour.js",
            "quote_process/static/tests/tours/quote_price_guidance_tour.js",
            "quote_process/static/tests/tours/quote_price_conflict_tour.js",
        ],
    },
    "pre_init_hook": "pre_init_hook",
    "post_init_hook": "post_init_hook",
}
