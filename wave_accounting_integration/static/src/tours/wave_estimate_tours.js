/** @odoo-module **/
// Browser tour of a quotation imported from a Wave estimate, run by
// tests/test_tour_estimate.py as a salesperson.
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("wave_estimate_quotation_tour", {
    steps: () => [
        {
            content: "The quotation shows its Wave estimate number",
            trigger: ".o_form_view .o_field_widget[name=wave_estimate_number]:contains(EST-TOUR-7)",
        },
        {
            content: "and where the estimate stands in Wave",
            trigger: ".o_form_view .o_field_widget[name=wave_status_label]:contains(Sent)",
        },
        {
            content: "and a link to the estimate in Wave",
            trigger:
                ".o_form_view .o_field_widget[name=wave_url] a[href^='https://next.waveapps.com/'][href$='/view']:contains(Open in Wave)",
        },
        {
            content: "The salesperson sees the Wave fields, not the Wave menu",
            trigger: "body:not(:has(.o_menu_sections a:contains(Wave)))",
        },
    ],
});
