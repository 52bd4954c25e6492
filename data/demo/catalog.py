"""Catalogs: the vocabulary the demo is written in (tools, models, personas, names, notes).

The tables are data, laid out one entry per line: the formatter is told to leave them be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Tool:
    key: str
    label: str
    plugin_id: str
    provider: str
    tool_name: str
    credential_type: str  # api-key | oauth2 | unauthorized
    runtime_parameters: dict[str, Any]


@dataclass(frozen=True)
class _Model:
    plugin_id: str
    provider: str
    model: str


@dataclass(frozen=True)
class _Output:
    name: str
    type: str
    required: bool = True
    description: str | None = None
    on_failure: str = "stop"  # stop | default_value | fail_branch
    retries: int = 0


@dataclass(frozen=True)
class _Persona:
    """An agent archetype: its name, prompt, tools, the job it does in workflows, what users ask it."""

    key: str
    name: str
    description: str
    emoji: str
    background: str
    prompt: tuple[str, ...]  # system prompt lines; "{company}" is the workspace's company
    tools: tuple[str, ...]
    job_prompt: str
    outputs: tuple[_Output, ...]
    request: str  # a user message; placeholders {first} {last} {email} {phone} {order} {company}
    reply: str


# fmt: off
TOOLS = {t.key: t for t in (
    _Tool("tavily", "Tavily search", "langgenius/tavily", "tavily", "tavily_search", "api-key",
          {"max_results": 5, "search_depth": "advanced"}),
    _Tool("google", "Google search", "langgenius/google", "google", "google_search", "api-key", {"num": 8}),
    _Tool("jina", "Jina reader", "langgenius/jina", "jina", "jina_reader", "api-key", {"summary": True}),
    _Tool("wikipedia", "Wikipedia", "langgenius/wikipedia", "wikipedia", "wikipedia_search", "unauthorized",
          {"language": "en"}),
    _Tool("arxiv", "arXiv search", "langgenius/arxiv", "arxiv", "arxiv_search", "unauthorized", {"max_results": 10}),
    _Tool("zendesk", "Zendesk ticket lookup", "langgenius/zendesk", "zendesk", "get_ticket", "api-key",
          {"include_comments": True}),
    _Tool("slack", "Slack message", "langgenius/slack", "slack", "send_message", "oauth2",
          {"channel": "#support-escalations"}),
    _Tool("github", "GitHub issue", "langgenius/github", "github", "create_issue", "api-key",
          {"repo": "acme/field-service", "labels": ["from-agent"]}),
    _Tool("jira", "Jira issue", "langgenius/jira", "jira", "create_issue", "api-key",
          {"project_key": "OPS", "issue_type": "Task"}),
    _Tool("notion", "Notion search", "langgenius/notion", "notion", "search_pages", "oauth2", {"page_size": 5}),
    _Tool("gmail", "Gmail draft", "langgenius/gmail", "gmail", "create_draft", "oauth2", {"format": "html"}),
    _Tool("code", "Python sandbox", "langgenius/code_interpreter", "code_interpreter", "run_python", "unauthorized",
          {"timeout_seconds": 30}),
    _Tool("calendar", "Google Calendar", "langgenius/google_calendar", "google_calendar", "create_event", "oauth2",
          {"calendar_id": "primary"}),
    _Tool("sql", "SQL query", "langgenius/database", "database", "sql_query", "api-key",
          {"max_rows": 200, "read_only": True}),
)}

MODELS = (
    _Model("langgenius/openai", "openai", "gpt-4o"),
    _Model("langgenius/openai", "openai", "gpt-4o-mini"),
    _Model("langgenius/openai", "openai", "gpt-4.1"),
    _Model("langgenius/anthropic", "anthropic", "claude-sonnet-4-20250514"),
    _Model("langgenius/anthropic", "anthropic", "claude-3-5-haiku-20241022"),
    _Model("langgenius/deepseek", "deepseek", "deepseek-chat"),
    _Model("langgenius/gemini", "google", "gemini-2.5-flash"),
    _Model("langgenius/tongyi", "tongyi", "qwen-max"),
)

PERSONAS = (
    _Persona(
        "support", "Support Assistant", "Answers customer questions about orders, returns and warranty.",
        "🛟", "#E0F2FE",
        ("You are the customer support assistant of {company}.",
         "Answer in the customer's language and keep replies under 150 words unless asked for detail.",
         "Always look up the order or ticket before promising anything.",
         "Never share internal notes, other customers' data or credentials.",
         "If a refund exceeds 500 EUR, hand over to a human agent with a short summary.",
         "Cite the knowledge base article you used, like [KB-123].",
         "End with one clear next step for the customer."),
        ("zendesk", "tavily"),
        "Answer the customer's latest message using the ticket history and the knowledge base.",
        (_Output("answer", "string"), _Output("needs_human", "boolean", required=False)),
        "Hi, this is {first} {last} ({email}). My order {order} still hasn't arrived, can you check? "
        "You can call me at {phone}.",
        "Thanks {first}! Order {order} left our warehouse and is with the carrier; tracking shows delivery "
        "tomorrow. If it does not arrive, reply here and I will open a replacement request.",
    ),
    _Persona(
        "classifier", "Ticket Classifier", "Labels incoming tickets by product, urgency and language.",
        "🏷️", "#FEF3C7",
        ("You classify support tickets for {company}.",
         "Return exactly one product area, one urgency (low, normal, high, critical) and the language.",
         "Treat safety incidents and outages as critical.",
         "Do not answer the customer; only classify.",
         "If the ticket is spam, set product area to 'spam'."),
        (),
        "Classify the incoming ticket. Use the customer's words, not your assumptions.",
        (_Output("product_area", "string"), _Output("urgency", "string"), _Output("language", "string", False)),
        "Ticket from {first} {last} <{email}>: the gripper on our arm (serial RA-{order}) stopped mid-cycle "
        "and shows error E42. Production line is down!",
        '{{"product_area": "robot-arms", "urgency": "critical", "language": "en"}}',
    ),
    _Persona(
        "escalation", "Escalation Concierge", "Hands difficult cases to the right human with a crisp summary.",
        "🧭", "#FCE7F3",
        ("You prepare escalations for the {company} support team.",
         "Summarize the case in five bullet points: customer, product, problem, what was tried, ask.",
         "Pick the on-call contact from the human contacts list by product area.",
         "Never promise compensation; the human decides.",
         "Ask the human for approval before sending anything to the customer."),
        ("slack", "zendesk"),
        "Escalate the case to the right on-call person and wait for their decision.",
        (_Output("summary", "string"), _Output("decision", "string", required=False)),
        "Customer {first} {last} ({email}, {phone}) demands a refund of 2,400 EUR for order {order}.",
        "Escalated to on-call with a five-point summary; waiting for approval before replying.",
    ),
    _Persona(
        "research", "Market Research Analyst", "Collects market news and competitor moves from the web.",
        "🔎", "#DCFCE7",
        ("You are a market research analyst for {company}.",
         "Search the web for news from the last seven days only.",
         "For every claim, keep the source URL and publication date.",
         "Prefer primary sources (press releases, filings) over blogs.",
         "Group findings by competitor, then by theme.",
         "Flag anything that affects pricing or supply chains."),
        ("tavily", "jina"),
        "Research this week's news about our competitors and the robotics market.",
        (_Output("findings", "array"), _Output("sources", "array", required=False)),
        "Focus on collaborative robots in the EU market this week; {first} {last} from sales asked.",
        "Found 7 items: two product launches, one price cut, four funding rounds. Sources attached.",
    ),
    _Persona(
        "writer", "Report Writer", "Turns research notes into a readable weekly report.",
        "📝", "#EDE9FE",
        ("You write the weekly report for {company}'s leadership team.",
         "Start with a three-sentence executive summary.",
         "Use headings per theme and at most five bullets per heading.",
         "Keep the sources as footnotes.",
         "Write in plain English; avoid hype words like 'revolutionary'."),
        ("notion",),
        "Write the weekly digest from the research findings of the previous node.",
        (_Output("report", "string"), _Output("title", "string", required=False)),
        "Please write this week's digest; {first} wants it in Notion by Friday.",
        "# Weekly Market Digest\n\nExecutive summary: demand for cobots keeps rising ...",
    ),
    _Persona(
        "compliance", "Compliance Reviewer", "Checks documents against internal policy before they go out.",
        "⚖️", "#F1F5F9",
        ("You review outgoing documents for {company} against the compliance policy.",
         "List every sentence that makes a forward-looking statement.",
         "Flag personal data that is not needed for the purpose.",
         "Answer 'approved' only when nothing is flagged.",
         "Quote the policy section for each finding."),
        (),
        "Review the report for compliance issues before it is published.",
        (_Output("verdict", "string"), _Output("findings", "array", required=False, on_failure="default_value")),
        "Review the attached report drafted by {first} {last}.",
        "verdict: changes needed. Two forward-looking statements (section 4.2).",
    ),
    _Persona(
        "onboarding", "Onboarding Buddy", "Welcomes new hires and walks them through their first week.",
        "👋", "#FFEDD5",
        ("You are the onboarding buddy for new employees at {company}.",
         "Greet the new hire by first name and explain the first-week schedule.",
         "Answer HR questions from the onboarding guide only.",
         "For laptop or account problems, open an IT ticket.",
         "Be warm, concise, and never discuss salaries."),
        ("calendar", "jira"),
        "Welcome the new hire and create their first-week calendar.",
        (_Output("welcome_message", "string"), _Output("events", "array", required=False)),
        "New hire: {first} {last}, personal email {email}, phone {phone}, starts Monday in Berlin.",
        "Welcome {first}! Your first week: Monday IT setup at 9:00, Tuesday team lunch ...",
    ),
    _Persona(
        "incident", "Incident Commander", "Coordinates outage response and writes status updates.",
        "🚨", "#FEE2E2",
        ("You coordinate incident response for {company}'s cloud services.",
         "Keep a timeline with UTC timestamps.",
         "Post a status update every 30 minutes while the incident is open.",
         "Never speculate about root cause in customer-facing updates.",
         "Assign owners for every action item."),
        ("slack", "github"),
        "Draft the next status update from the incident timeline.",
        (_Output("status_update", "string"), _Output("severity", "string", retries=2)),
        "PagerDuty alert: API latency p99 above 4s since 09:12 UTC. On-call is {first} {last} ({phone}).",
        "Investigating: elevated API latency since 09:12 UTC. Next update in 30 minutes.",
    ),
    _Persona(
        "sql", "Data Analyst", "Answers business questions with read-only SQL.",
        "📊", "#E0E7FF",
        ("You answer business questions for {company} with read-only SQL.",
         "Show the query you ran and a short interpretation.",
         "Never run statements that modify data.",
         "Round money to two decimals and state the currency.",
         "If the question is ambiguous, state your assumption first."),
        ("sql", "code"),
        "Answer the analytics question with a query and a chart description.",
        (_Output("answer", "string"), _Output("query", "string", required=False)),
        "How many orders did customer {first} {last} ({email}) place in 2026?",
        "12 orders in 2026 (query: SELECT count(*) FROM orders WHERE customer_id = ...).",
    ),
    _Persona(
        "meetings", "Meeting Summarizer", "Turns meeting transcripts into decisions and action items.",
        "🗒️", "#FAE8FF",
        ("You summarize meetings at {company}.",
         "Output decisions, action items with owners and due dates, and open questions.",
         "Do not include small talk.",
         "Use the attendees' first names only."),
        ("notion", "gmail"),
        "Summarize the transcript into decisions and action items.",
        (_Output("summary", "string"), _Output("action_items", "array")),
        "Transcript of the weekly sync; attendees include {first} {last} <{email}>.",
        "Decisions: ship v2.3 on Tuesday. Actions: {first} to update the release notes by Friday.",
    ),
    _Persona(
        "recruiting", "Recruiting Screener", "Screens applications against the job description.",
        "🧑‍💼", "#CCFBF1",
        ("You screen job applications for {company}.",
         "Score each requirement from 0 to 3 and justify in one sentence.",
         "Ignore name, gender, age, nationality and photos.",
         "Never reject; recommend 'interview' or 'hold' only."),
        ("gmail",),
        "Screen the application against the job description.",
        (_Output("recommendation", "string"), _Output("scores", "object")),
        "Application from {first} {last} ({email}, {phone}) for Senior Robotics Engineer.",
        "Recommendation: interview. Strong ROS2 experience (3/3), limited safety certification (1/3).",
    ),
    _Persona(
        "contracts", "Contract Clause Checker", "Finds risky clauses in supplier contracts.",
        "📑", "#FEF9C3",
        ("You check supplier contracts for {company}'s procurement team.",
         "Flag unlimited liability, auto-renewal and exclusivity clauses.",
         "Quote the clause and explain the risk in one sentence.",
         "You are not a lawyer; recommend legal review for anything flagged high."),
        (),
        "Check the contract for risky clauses.",
        (_Output("flags", "array"), _Output("risk", "string", on_failure="fail_branch")),
        "Supplier contract from {last} GmbH, contact {first} {last} <{email}>.",
        "High risk: clause 14.2 auto-renews for 36 months without notice.",
    ),
    _Persona(
        "intake", "Clinical Intake Assistant", "Collects symptoms and routes patients to the right clinic.",
        "🩺", "#DBEAFE",
        ("You do patient intake for {company}.",
         "Ask about symptoms, duration and medication, one question at a time.",
         "If the patient describes chest pain or difficulty breathing, tell them to call emergency services.",
         "Never give a diagnosis.",
         "Summarize for the nurse using SOAP headings."),
        ("calendar",),
        "Collect the intake information and propose a clinic and slot.",
        (_Output("soap_summary", "string"), _Output("clinic", "string")),
        "Patient {first} {last}, DOB 1984-03-12, phone {phone}: persistent cough for two weeks.",
        "Summary for the nurse (S: cough 2 weeks, no fever ...). Suggested: respiratory clinic, Tue 10:30.",
    ),
    _Persona(
        "papers", "Paper Summarizer", "Summarizes research papers for the lab's reading group.",
        "📚", "#ECFCCB",
        ("You summarize research papers for {company}'s reading group.",
         "Give the problem, method, main result and one limitation.",
         "Quote numbers exactly as in the paper.",
         "Link the arXiv id.",
         "Keep it under 200 words."),
        ("arxiv", "jina"),
        "Summarize each paper found by the previous node.",
        (_Output("summaries", "array"), _Output("reading_list", "string", required=False)),
        "Summarize the new diffusion-policy papers; {first} {last} presents on Thursday.",
        "3 papers. (1) arXiv:2605.01234: diffusion policies for bimanual grasping, +12% success ...",
    ),
    _Persona(
        "releases", "Release Notes Writer", "Writes customer-facing release notes from merged pull requests.",
        "🚀", "#F5F5F4",
        ("You write release notes for {company}'s products.",
         "Group changes as New, Improved, Fixed.",
         "Write for customers, not engineers; no PR numbers.",
         "Mention breaking changes first, in bold."),
        ("github",),
        "Write release notes from the merged pull requests.",
        (_Output("notes", "string"),),
        "Release 2.3 is tagged; ping {first} {last} ({email}) when the notes are ready.",
        "**Breaking:** the v1 REST API is removed. New: fleet dashboard. Fixed: 14 bugs.",
    ),
)
PERSONA = {p.key: p for p in PERSONAS}

#: Prompt lines an edit may add or swap in.
EXTRA_PROMPT_LINES = (
    "Think step by step, but only show the final answer.",
    "If the request is ambiguous, ask exactly one clarifying question.",
    "Use bullet points for lists of three or more items.",
    'Do not invent numbers; say "I don\'t know" when the data is missing.',
    "Format dates as YYYY-MM-DD and amounts with their currency.",
    "Keep a neutral, friendly tone; no emojis in formal documents.",
    "When you call a tool, explain in one sentence why.",
    "Prefer the most recent source when two sources disagree.",
    "Mask personal data (emails, phone numbers) in summaries.",
    "Stop and escalate if the user mentions legal action or a safety incident.",
    "Reply in German when the user writes in German (Umlaute bitte korrekt: ä, ö, ü, ß).",
    "Never paste more than 20 lines of raw data; summarize instead.",
)

FIRST_NAMES = (
    "Maya", "Omar", "Lena", "Kenji", "Priya", "Diego", "Sofia", "Tomás", "Amara", "Jonas", "Hannah", "Wei",
    "Fatima", "Lucas", "Aiko", "Mateo", "Zoe", "Noah", "Chloé", "Arjun", "Ingrid", "Kwame", "Yusuf", "Elif",
    "Rafael", "Nadia", "Sven", "Mei", "Olga", "Tariq", "Camila", "Björn", "Leila", "Hugo", "Anika", "Pedro",
)
LAST_NAMES = (
    "Chen", "Haddad", "Fischer", "Watanabe", "Raman", "Alvarez", "Rossi", "Novák", "Okafor", "Berg",
    "Schmidt", "Zhang", "Khan", "Martin", "Tanaka", "García", "Dubois", "Müller", "Patel", "Kowalski",
    "Nguyen", "Mensah", "Yılmaz", "Santos", "Andersson", "Ivanova", "O'Brien", "Kim", "Silva", "Larsen",
)
TEAMS = (
    "EMEA", "Americas", "APAC", "Tier 2", "Enterprise", "Partners", "Night Shift", "Field Service", "Pilot",
    "Sandbox", "Internal", "Beta", "Finance", "Legal", "Ops", "Marketing",
)
WORKFLOW_APP_NAMES = (
    ("Lead Qualification", "workflow"), ("Invoice Dispute Handling", "advanced-chat"),
    ("RMA Processing", "workflow"), ("Partner Portal Assistant", "advanced-chat"),
    ("Weekly KPI Report", "workflow"), ("IT Helpdesk", "advanced-chat"), ("Contract Review", "workflow"),
    ("Release Train", "workflow"), ("Incident Postmortem Drafts", "workflow"),
    ("Field Technician Copilot", "advanced-chat"), ("Candidate Screening", "workflow"),
    ("Knowledge Base Gardener", "workflow"), ("Sales Call Follow-up", "workflow"),
    ("Warranty Claims", "advanced-chat"),
)
EDIT_NOTES = {
    "prompt": ("Tightened the wording", "Clarified the escalation rule", "Shorter answers",
               "Added a rule after a bad answer in production", "Reworded for the new policy"),
    "tool_add": ("Added {tool}", "Needs {tool} for lookups", "Enable {tool} (requested by the team)"),
    "tool_remove": ("Removed {tool}", "Dropped {tool}: it was never used", "Removed {tool} (credential revoked)"),
    "model": ("Switched to {model}", "Try {model} for cost", "{model} handles tool calls better"),
    "temperature": ("Temperature {old} -> {new}", "Lower temperature for consistent answers",
                    "More creative answers"),
    "env": ("Added {name} variable", "Configure {name}"),
    "secret": ("Added {name} secret reference", "Rotate {name}"),
    "knowledge": ("Attached '{dataset}' knowledge", "Use '{dataset}' for answers"),
    "contact": ("Added {name} as human contact", "On-call rotation: {name}"),
}
FOLLOW_UPS = (
    "Thanks! One more question: can I change the delivery address?",
    "That didn't work, the page says 'session expired'.",
    "Can you send me that as a PDF?",
    "Please escalate, this is urgent.",
    "ok",
    "Great, that solved it. 👍",
    "Mi puoi rispondere in italiano?",
)
# fmt: on
