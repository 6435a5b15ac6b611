import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("quote_process_engine_price_tour", {
    steps: () => [
        {
            content: "The quote line shows its engine price",
            trigger: ".o_field_widget[name=engine_price_unit] .o_quote_engine_price:contains(90.00)",
        },
        {
            content: "Open the explanation of the engine price",
            trigger: ".o_field_widget[name=engine_price_unit] .o_quote_engine_trace_button",
            run: "click",
        },
        {
            content: "The explanation lists the pricelist, the rule and the result",
            trigger: ".o_quote_engine_trace:contains(QP Tour Rule):contains(Engine price)",
        },
    ],
});
