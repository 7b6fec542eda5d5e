/** @odoo-module **/
// Browser tours of the historical import screens, run by tests/test_tour_import.py.
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");
// Set on the page when the run is first shown: a full page reload would drop it.
const NO_RELOAD = "o_wave_tour_no_reload";

tours.add("wave_import_progress_tour", {
    steps: () => [
        {
            content: "The import runs and nothing is imported yet",
            trigger:
                ".o_form_view:has(.o_statusbar_status .o_arrow_button_current:contains(Running)) " +
                ".o_field_widget[name=records_done] span:contains(0)",
            run() {
                document.body.classList.add(NO_RELOAD);
            },
        },
        {
            content: "A page of invoices is imported: the figure changes on its own",
            trigger: `body.${NO_RELOAD} .o_form_view .o_field_widget[name=records_done] span:not(:contains(0))`,
            timeout: 30000,
        },
        {
            content: "The last page is imported: the import is done, still without reload",
            trigger: `body.${NO_RELOAD} .o_form_view .o_statusbar_status .o_arrow_button_current:contains(Done)`,
            timeout: 60000,
        },
    ],
});

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

// Starting an import from the connection: the run replaces the screens it came
// from (no breadcrumb pile-up); the export file is imported from the same screen.
tours.add("wave_import_start_tour", {
    steps: () => [
        {
            content: "Open the import from the connection",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Import history)",
            run: "click",
        },
        {
            content: "The export file (expenses and bills) is imported from here too",
            trigger: ".modal .modal-footer button.o_wave_export_file_button",
        },
        {
            content: "Start the import",
            trigger: ".modal .modal-footer button[name=action_import]",
            run: "click",
        },
        {
            content: "The run is shown alone: no breadcrumb back to the connection",
            trigger:
                "body:not(:has(.modal)) .o_form_view:has(.o_statusbar_status .o_arrow_button_current:contains(Running)) " +
                ".o_control_panel .o_breadcrumb:not(:has(.breadcrumb-item)) .o_last_breadcrumb_item",
        },
    ],
});
