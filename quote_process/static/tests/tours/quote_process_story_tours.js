import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

/* The salesperson quotes from an opportunity, checks the engine price and its
 * explanation, lowers the price, gives a reason and requests approval. */
tours.add("quote_process_salesperson_quote_tour", {
    steps: () => [
        {
            content: "Create a quotation from the opportunity",
            trigger: ".o_form_view button[name=action_sale_quotations_new]",
            run: "click",
        },
        {
            content: "The quotation is for the opportunity's customer",
            trigger: ".o_field_widget[name=partner_id] input:value(QP Story Customer)",
        },
        {
            content: "Add a product line",
            trigger: ".o_field_x2many_list_row_add a:contains(Add a product)",
            run: "click",
        },
        {
            trigger: ".o_selected_row div[name=product_template_id] input",
            run: "edit QP Story Chair",
        },
        {
            trigger: "ul.ui-autocomplete a:contains(QP Story Chair)",
            run: "click",
        },
        {
            content: "The line gets its engine price",
            trigger: ".o_data_row .o_field_widget[name=engine_price_unit] .o_quote_engine_price:contains(90.00)",
        },
        {
            content: "Open the explanation of the engine price",
            trigger: ".o_data_row .o_field_widget[name=engine_price_unit] .o_quote_engine_trace_button",
            run: "click",
        },
        {
            content: "The explanation names the rule that applied",
            trigger: ".o_quote_engine_trace:contains(QP Story Rule):contains(Engine price)",
        },
        {
            content: "Select the line's unit price",
            trigger: ".o_data_row .o_data_cell[name=price_unit]",
            run: "click",
        },
        {
            content: "Lower the price below the engine price",
            trigger: ".o_selected_row .o_field_widget[name=price_unit] input",
            run: "edit 72 && press Tab",
        },
        {
            content: "The deviation shows in red",
            trigger: ".o_data_row .o_data_cell[name=deviation_percent]:contains(-20.00)",
        },
        {
            content: "A reason is now required",
            trigger: ".o_selected_row .o_field_widget[name=deviation_reason_id].o_required_modifier input",
            run: "edit Competitor",
        },
        {
            trigger: "ul.ui-autocomplete a:contains(Competitor price match)",
            run: "click",
        },
        {
            content: "Explain the price",
            trigger: ".o_selected_row .o_field_widget[name=deviation_note] textarea",
            run: "edit Matches the offer of a competitor",
        },
        {
            content: "Save the quotation",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The quote needs an approval",
            trigger: ".o_form_saved .alert-warning:contains(beyond the salesperson's authority)",
        },
        {
            content: "Request approval",
            trigger: ".o_form_view button[name=action_request_approval]",
            run: "click",
        },
        {
            content: "The quote awaits approval",
            trigger: ".alert-warning:contains(Awaiting approval)",
        },
    ],
});

/* The manager approves the prices from the Quotes to Approve menu. */
tours.add("quote_process_manager_approval_tour", {
    steps: () => [
        {
            content: "The quote waits in the manager's list",
            trigger: ".o_list_view .o_data_row td:contains(QP Story Customer)",
            run: "click",
        },
        {
            content: "Approve the prices",
            trigger: ".o_form_view button[name=action_approve]",
            run: "click",
        },
        {
            content: "The approval is shown on the quote",
            trigger: ".alert-success:contains(Prices approved by)",
        },
    ],
});

/* The salesperson sends the approved quote by email. */
tours.add("quote_process_send_quote_tour", {
    steps: () => [
        {
            content: "The prices are approved",
            trigger: ".alert-success:contains(Prices approved by)",
        },
        {
            content: "Send the quotation by email",
            trigger: ".o_form_view button[name=action_quotation_send]",
            run: "click",
        },
        {
            content: "Send the email",
            trigger: ".modal button[name=action_send_mail]",
            run: "click",
        },
        {
            content: "The quotation is sent and awaits the customer's response",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Quotation Sent)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=customer_response]:contains(Pending)",
        },
    ],
});

/* The salesperson marks a sent quote as lost, with a reason. */
tours.add("quote_process_mark_lost_tour", {
    steps: () => [
        {
            content: "Mark the quotation as lost",
            trigger: ".o_form_view button[name=action_mark_lost]",
            run: "click",
        },
        {
            content: "Pick the reason",
            trigger: ".modal .o_field_widget[name=lost_reason_id] span:contains(Our price was higher)",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=lost_note] textarea",
            run: "edit The competitor offered 15% less",
        },
        {
            content: "Confirm",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The quotation is lost",
            trigger: ".o_form_view .ribbon:contains(Lost)",
        },
    ],
});

/* The manager opens the quote analysis from the Sales reporting menu. */
tours.add("quote_process_analysis_tour", {
    steps: () => [
        {
            content: "Open Sales reporting",
            trigger: ".o_main_navbar button:contains(Reporting)",
            run: "click",
        },
        {
            content: "Open the quote analysis",
            trigger: ".dropdown-item:contains(Quote Analysis)",
            run: "click",
        },
        {
            content: "The lost quotations are shown by reason",
            trigger: ".o_graph_view .o_facet_value:contains(Lost)",
        },
        {
            content: "Switch to the pivot table",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "The pivot shows the salesperson's lost quote",
            trigger: ".o_pivot th:contains(QP Story Salesperson)",
        },
    ],
});
