import { registry } from "@web/core/registry";

/* The salesperson reads the price guidance of a quote line: how quotes of the
 * product fared with customers, band by band. */
registry.category("web_tour.tours").add("quote_process_price_guidance_tour", {
    steps: () => [
        {
            content: "The line shows the win rate of the product's decided quotes",
            trigger: ".o_widget_quote_price_guidance button.o_quote_price_guidance:contains(60% won)",
            run: "click",
        },
        {
            content: "The details: decided and won quotes, the median won deviation",
            trigger: ".o_quote_price_guidance_popover:contains(won 6 of 10):contains(median won -4%)",
        },
        {
            content: "Quotes at the engine price won less than half the time",
            trigger: ".o_quote_price_guidance_popover tr:contains(At the engine price):contains(43%)",
        },
        {
            content: "Quotes 5–10% below all won",
            trigger: ".o_quote_price_guidance_popover tr:contains(5–10% below):contains(100%)",
        },
    ],
});
