/** @odoo-module **/
// Browser tours of the historical import screens, run by tests/test_tour_import.py.
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

tours.add("wave_import_cancel_resume_tour", {
    steps: () => [
        {
            content: "Cancel the running import",
            trigger:
                ".o_form_view:has(.o_statusbar_status .o_arrow_button_current:contains(Running)) " +
                "button[name=action_cancel]",
            run: "click",
        },
        {
            content: "Odoo asks first, saying what happens to what is already imported",
            trigger: ".modal-body:contains(already imported stay in Odoo)",
        },
        {
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Then says what it did",
            trigger: ".o_notification:contains(Import cancelled)",
        },
        {
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Cancelled)",
        },
        {
            content: "Resume it",
            trigger: ".o_form_view button[name=action_resume]",
            run: "click",
        },
        {
            trigger: ".o_notification:contains(from where it stopped)",
        },
        {
            content: "It runs again",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Running)",
        },
    ],
});
