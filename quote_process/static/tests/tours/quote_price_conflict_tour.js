import { registry } from "@web/core/registry";

/* The salesperson sees that the customer has the line's product at another
 * price in another quotation, then aligns the price: the warning goes. */
registry.category("web_tour.tours").add("quote_process_price_conflict_tour", {
    steps: () => [
        {
            content: "The line warns of another price for the customer",
            trigger: ".o_widget_quote_price_conflict button.o_quote_price_conflict",
            run: "click",
        },
        {
            content: "The other quotation and its price",
            trigger:
                ".o_quote_price_conflict_popover:contains(QP Conflict Widget):contains(open quotation):contains(90.00)",
        },
        {
            content: "Set the line to the other quotation's price",
            trigger: ".o_data_row td.o_data_cell[name=price_unit]",
            run: "click",
        },
        {
            trigger: ".o_data_row .o_field_widget[name=price_unit] input",
            run: "edit 90",
        },
        {
            content: "Save the quote",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The warning is gone",
            trigger: ".o_form_saved .o_list_table:not(:has(.o_quote_price_conflict))",
        },
    ],
});
