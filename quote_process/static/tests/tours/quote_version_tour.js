import { registry } from "@web/core/registry";

/* The salesperson opens the versions of a quotation sent twice and compares
 * them. */
registry.category("web_tour.tours").add("quote_process_versions_tour", {
    steps: () => [
        {
            content: "Open the versions of the quotation",
            trigger: ".o_form_view button[name=action_view_versions]:contains(2)",
            run: "click",
        },
        {
            content: "Both versions are listed",
            trigger: ".o_list_view .o_data_row:eq(1)",
        },
        {
            content: "Select both versions",
            trigger: ".o_list_view thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Compare them",
            trigger: ".o_control_panel button[name=action_compare], .o_list_view button[name=action_compare]",
            run: "click",
        },
        {
            content: "The comparison names the change of price",
            trigger: ".modal .o_field_widget[name=comparison_html]:contains(Large Desk 1,650.00 → 1,590.00)",
        },
        {
            content: "Close the comparison",
            trigger: ".modal button.btn-secondary:contains(Close)",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
