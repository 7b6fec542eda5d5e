/** @odoo-module **/
// Browser tours of the Wave screens, run by tests/test_tour_ui.py.
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

tours.add("wave_dashboard_tour", {
    url: "/odoo/action-wave_accounting_integration.wave_dashboard_action",
    steps: () => [
        {
            content: "The dashboard shows the Wave business",
            trigger: ".o_wave_dashboard .o_field_widget[name=business_name]:contains(Acme Widgets)",
        },
        {
            content: "One record waits in quarantine",
            trigger: ".o_wave_quarantine_button .o_stat_value:contains(1)",
        },
        {
            content: "Records synced per day",
            trigger: ".o_notebook .nav-link:contains(Per day)",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=per_day_html] table.o_wave_table",
        },
        {
            content: "Open the go-live checklist",
            trigger: "button[name=action_open_golive]",
            run: "click",
        },
        {
            content: "Each check has a result",
            trigger: ".modal .o_data_row:contains(Mappings complete)",
        },
        {
            trigger: ".modal .o_data_row:contains(Last month matches Wave)",
        },
        {
            content: "Run the checks again",
            trigger: ".modal button[name=action_run]",
            run: "click",
        },
        {
            trigger: ".modal .o_data_row:contains(Connected to Wave) .badge",
        },
        {
            content: "Close the checklist",
            trigger: ".modal .modal-footer button.btn-secondary",
            run: "click",
        },
        {
            content: "Back on the dashboard",
            trigger: "body:not(:has(.modal)) .o_wave_dashboard",
        },
    ],
});

tours.add("wave_partner_confirm_tour", {
    url: "/odoo/action-wave_accounting_integration.wave_partner_map_action",
    steps: () => [
        {
            content: "The fuzzy match waits for review with its score",
            trigger: ".o_data_row:contains(Globex Industries) td[name=match_score]:contains(88)",
        },
        {
            content: "Confirm the suggested contact",
            trigger: ".o_data_row:contains(Globex Industries) button[name=action_confirm]",
            run: "click",
        },
        {
            content: "Once confirmed it leaves the review list",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Globex Industries)))",
        },
    ],
});

tours.add("wave_account_map_tour", {
    url: "/odoo/action-wave_accounting_integration.wave_account_map_action",
    steps: () => [
        {
            content: "Find the Wave account (the chart may span several pages)",
            trigger: ".o_searchview_input",
            run: "edit Special Projects",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            trigger: ".o_searchview_facet:contains(Special Projects)",
        },
        {
            content: "Edit the unmapped Wave account, once the list shows only it",
            trigger:
                ".o_list_renderer:not(:has(.o_data_row:not(:contains(Special Projects)))) " +
                ".o_data_row:contains(Special Projects) td[name=account_id]",
            run: "click",
        },
        {
            trigger: ".o_selected_row .o_field_widget[name=account_id] input",
            run: "edit WAVE42",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains(WAVE42)",
            run: "click",
        },
        {
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "The mapping is saved",
            trigger: ".o_data_row:contains(Special Projects):not(.o_selected_row) td[name=account_id]:contains(WAVE42)",
        },
    ],
});

tours.add("wave_quarantine_replay_tour", {
    url: "/odoo/action-wave_accounting_integration.wave_quarantine_action",
    steps: () => [
        {
            content: "Open the quarantined invoice",
            trigger: ".o_data_row td[name=name]",
            run: "click",
        },
        {
            content: "The reason is readable",
            trigger: ".o_field_widget[name=reasons]:contains(suspense)",
        },
        {
            content: "Replay it now that the account is mapped",
            trigger: ".o_form_view button[name=action_replay]",
            run: "click",
        },
        {
            content: "Resolved",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Resolved)",
        },
    ],
});

// The administrator starts "Connect to Wave"; the browser leaves Odoo for Wave's consent
// page (the test gives the consent there, in the same browser) and comes back through
// /wave/oauth/callback. The tour resumes on the page Odoo lands on (its state is kept in
// the browser's local storage): the token reaches two businesses, the tour picks one.
tours.add("wave_oauth_connect_tour", {
    url: "/odoo/action-wave_accounting_integration.wave_api_action",
    steps: () => [
        {
            content: "Open the connection",
            trigger: ".o_data_row td[name=name]",
            run: "click",
        },
        {
            content: "Not connected yet",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Not connected)",
        },
        {
            content: "Connect to Wave: the browser goes to Wave's consent page",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_wave_connect]:contains(Connect to Wave)",
            run: "click",
        },
        {
            content: "Back from Wave: choose among the businesses the grant reaches",
            trigger: ".o_form_view .o_field_widget[name=line_ids] .o_data_row:contains(Maple Leaf Consulting)",
            timeout: 30000,
        },
        {
            content: "Use the US business",
            trigger: ".o_form_view .o_field_widget[name=line_ids] .o_data_row:contains(Acme Widgets) button[name=action_select]",
            run: "click",
        },
        {
            content: "Odoo confirms the business",
            trigger: ".o_notification:contains(Acme Widgets)",
        },
        {
            content: "Back on the connection, connected",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Connected)",
            timeout: 20000,
        },
        {
            content: "The business choice does not pile up in the breadcrumbs",
            trigger: ".o_control_panel .o_breadcrumb:not(:has(.breadcrumb-item)) .o_last_breadcrumb_item",
        },
    ],
});

tours.add("wave_connection_tour", {
    url: "/odoo/action-wave_accounting_integration.wave_api_action",
    steps: () => [
        {
            content: "Open the connection",
            trigger: ".o_data_row td[name=name]",
            run: "click",
        },
        {
            content: "Connected through OAuth to the sandbox business",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Connected)",
        },
        {
            content: "The business chosen after the consent",
            trigger: ".o_form_view .o_field_widget[name=business_name] input:value(Acme Widgets Inc.)",
        },
        {
            content: "No secret is sent to the browser",
            // the client secret's value (":contains" ignores case: "secret" is a plain word on the form)
            trigger: ".o_form_view:not(:contains(odoo-tour-SECRET))",
        },
    ],
});

// Issue 19: the go-live checklist reaches Ready (a full-access token or OAuth).
tours.add("wave_golive_ready_tour", {
    url: "/odoo/action-wave_accounting_integration.wave_dashboard_action",
    steps: () => [
        {
            content: "Open the go-live checklist from the dashboard",
            trigger: "button[name=action_open_golive]",
            run: "click",
        },
        {
            content: "The permissions check passes",
            trigger: ".modal .o_data_row.text-success:contains(Permissions granted by Wave)",
        },
        {
            content: "Ready (with or without warnings), never Not ready",
            trigger:
                ".modal:not(:has(.alert-danger)):has(.o_data_row) .alert:contains(ready)",
        },
        {
            content: "No failed check",
            trigger: ".modal:not(:has(.o_data_row.text-danger)) .o_data_row",
        },
        {
            content: "Every check name is shown whole (issue 19 saw them cut off)",
            trigger: ".modal .o_data_row td[name=name]",
            run: () => {
                for (const cell of document.querySelectorAll(".modal .o_data_row td[name=name]")) {
                    if (cell.scrollWidth > cell.clientWidth + 1) {
                        throw new Error(`check name cut off: ${cell.innerText}`);
                    }
                }
            },
        },
    ],
});

// A quarantined invoice in an inactive currency: the form says what it is and why, offers
// only the currency fix, and that one click books the invoice.
tours.add("wave_quarantine_currency_fix_tour", {
    url: "/odoo/action-wave_accounting_integration.wave_quarantine_action",
    steps: () => [
        {
            content: "Open the invoice waiting for its currency",
            trigger: ".o_data_row:contains(SEK) td[name=name]",
            run: "click",
        },
        {
            content: "The summary shows the customer, the total and its currency",
            trigger: ".o_wave_quarantine_summary .o_field_widget[name=summary_total]:contains(SEK)",
        },
        {
            trigger: ".o_wave_quarantine_summary .o_field_widget[name=summary_customer]:not(:empty)",
        },
        {
            content: "The reason is in plain words",
            trigger: ".o_field_widget[name=reasons]:contains(Currency SEK is not active)",
        },
        {
            content: "Only the currency fix is offered, the raw data is folded away",
            trigger:
                ".o_form_view:not(:has(button[name=action_map_accounts])):not(:has(button[name=action_choose_contact])):not(:has(.o_field_widget[name=payload_display]:visible)) button[name=action_activate_currency_and_replay]",
        },
        {
            content: "Activate the currency and replay",
            trigger: "button[name=action_activate_currency_and_replay]",
            run: "click",
        },
        {
            content: "Resolved, and said so",
            trigger: ".o_notification:contains(now in sync)",
        },
        {
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Resolved)",
        },
        {
            content: "The entry links to the invoice it produced",
            trigger: ".o_form_view button[name=action_open_record]:contains(Odoo record)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Posted)",
        },
    ],
});

// Issue 19: choosing another Wave business while invoices, payments or contacts are
// linked to the current one is refused with an explanation (nothing changes); the
// business name "Acme Widgets Inc." is followed by one period, not two.
const noDoubledPeriod = (element) => {
    const text = element.textContent;
    if (/(^|[^.])\.\.(?!\.)/.test(text)) {
        throw new Error(`doubled period in: ${text}`);
    }
};

tours.add("wave_business_switch_refused_tour", {
    url: "/odoo/action-wave_accounting_integration.wave_api_action",
    steps: () => [
        {
            content: "Open the connection",
            trigger: ".o_data_row td[name=name]",
            run: "click",
        },
        {
            content: "Choose another business",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_wave_choose_business]",
            run: "click",
        },
        {
            content: "The selection warns that data is linked to the current business",
            trigger: ".modal .alert-warning:contains(Data is already linked to Acme Widgets Inc.):contains(of this company came from or were sent to that business)",
            run() {
                noDoubledPeriod(this.anchor);
            },
        },
        {
            content: "Use the Canadian business without ticking the confirmation",
            trigger: ".modal .o_field_widget[name=line_ids] .o_data_row:contains(Maple Leaf Consulting) button[name=action_select]",
            run: "click",
        },
        {
            content: "Refused, with the reason and what to do",
            trigger: ".o_error_dialog:contains(linked to the Wave business Acme Widgets Inc. Choosing Maple Leaf Consulting Ltd. would sync them):contains(Tick the confirmation)",
            run() {
                noDoubledPeriod(this.anchor);
            },
        },
        {
            content: "No success message",
            trigger: "body:not(:has(.o_notification:contains(Wave business selected))) .o_error_dialog",
        },
    ],
});
