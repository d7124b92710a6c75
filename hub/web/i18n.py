"""Languages of the pages: UI strings in en, fr and es; labels picked by language with fallback.

The language comes from ``?lang=``, then the ``lang`` cookie the language switch sets, then
``Accept-Language``; English when none of them names a supported language.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import pyoxigraph as ox

LANGS = ("en", "fr", "es")
DEFAULT = "en"

UI: dict[str, dict[str, str]] = {
    "en": {
        "hub": "CHM Knowledge Hub", "tagline": "The Clearing-House Mechanism of the Convention on Biological Diversity as linked data.",
        "search": "Search", "search_label": "Search labels, titles and symbols (e.g. X/15, COP 10)", "results": "Results",
        "no_results": "Nothing matches", "holds": "What the hub holds", "entry_points": "Browse",
        "class": "Class", "instances": "Instances", "properties": "Properties", "referenced_by": "Referenced by",
        "provenance": "Provenance", "graph": "Graph", "loaded": "Loaded", "source": "Source",
        "lineage": "Lineage", "builds_on": "Builds on", "built_on_by": "Later built on it", "paragraphs": "Paragraphs",
        "requests": "Requests", "addressee": "to", "targets": "Targets addressed", "status": "Status",
        "decisions_based": "Decisions based on this article", "actions": "Strategic actions", "goal": "Goal",
        "outcome": "Outcome", "action": "Action", "lead": "Lead", "years": "Years", "page": "Page", "of": "of",
        "previous": "Previous", "next": "Next", "sort": "Sort by", "filter": "Filter", "apply": "Apply",
        "any": "any", "label": "Label", "date": "Date", "language": "Language", "not_found": "Not found",
        "not_found_text": "The hub has nothing under this address.", "formats": "Other formats",
        "queries": "Saved queries", "editor": "SPARQL editor", "catalog": "Data catalogue", "lineage_picture": "Lineage picture",
        "decisions": "Decisions", "meetings": "Meetings", "articles": "Articles", "targets_index": "Targets",
        "programmes": "Work programmes", "actors": "Actors", "networks": "Networks", "records": "Records",
        "requests_to": "Requests addressed to it", "leads": "Strategic actions it leads or contributes to",
        "kind": "Link", "meeting": "Meeting", "subject": "Subject", "type": "Type", "country": "Country",
        "skip": "Skip to content",
        "login": "Log in", "logout": "Log out", "user_name": "User name", "password": "Password",
        "submit_document": "Submit a document", "submitted": "Submitted", "detected": "detected", "words": "words",
        "suggested_subjects": "Suggested subjects", "references": "References", "reference": "Reference",
        "none": "None", "document_file": "Document", "detect": "Detect", "submit": "Submit",
        "to_submit": "to submit a document.", "review_queue": "Review queue", "queue_empty": "Nothing to review.",
        "concept": "Concept", "score": "Score", "review_actions": "Actions", "accept": "Accept", "reject": "Reject",
        "add_subject": "Add a subject (concept IRI)", "add": "Add",
        "tracking": "Decision tracking", "tracking_intro": "Decisions by status: each count links to the decisions behind it.",
        "status_changes": "Status changes", "drafts": "drafts", "published": "published", "rejected": "rejected", "publish": "Publish", "revert": "Revert", "removed_status": "recorded status removed", "record_status": "Record a status", "element": "Paragraph", "note": "Note",
        "needs": "Cooperation needs", "offers": "Cooperation offers", "matches": "Matches", "match_accepted": "accepted", "match_declined": "declined", "decline": "Decline",
        "new_need": "State a need", "new_offer": "Make an offer", "description": "Description", "who_need": "Who needs it (country or organization IRI)", "who_offer": "Who offers it (organization IRI)", "subjects_field": "Subjects (thesaurus concepts, one per line)", "targets_field": "KMGBF targets (numbers)", "support_field": "Kind of support", "countries_field": "Countries (ISO codes)", "regions_field": "Regions", "languages_field": "Working languages", "capacity_field": "Capacity (how many needs)", "matchmaking_review": "Needs and offers to review", "close": "Close",
        "used_in": "Where the hub uses it", "statements": "statements",
        "code": "Code",
        "k_recalls": "recalls", "k_amends": "amends", "k_supersedes": "supersedes", "k_retires": "retires", "k_based on": "based on", "k_implements": "implements", "k_refers to": "refers to", "k_references": "references", "k_reaffirms": "reaffirms", "k_establishes": "establishes", "k_extends": "extends", "k_renews": "renews", "k_adopts": "adopts", "k_endorses": "endorses", "k_welcomes": "welcomes", "k_takes note of": "takes note of",
        "accept_selected": "Accept selected", "reject_selected": "Reject selected", "accept_all": "Accept all of this record", "reject_all": "Reject all of this record", "select_suggestion": "Select", "review_keys": "Keys: j/k next/previous, a accept, r reject, x select, A/R accept/reject the selected", "reviewed": "reviewed", 
        "results_count": "results", "showing": "showing", "all_types": "All types", 
        "lineage_depth": "Depth", "depth_all": "all", "links_away_1": "1 link away", "links_away_n": "{n} links away",
        "link_kinds": "Link kinds", "lineage_more": "The chain goes on: show more depth", "download": "Download",
        "thesaurus": "Thesaurus", "breadcrumb": "You are here",
        "facet_meeting": "Meeting", "facet_status": "Status", "facet_subject": "Subject", "facet_target": "Target",
        "place": "Place", "body": "Body", "symbol": "Symbol", "title": "Title", "meeting_decisions": "Decisions of this meeting",
        "framework_kmgbf": "Kunming-Montreal Global Biodiversity Framework", "framework_aichi": "Aichi Biodiversity Targets (2011–2020)", "indicators": "Indicators", "role_headline": "Headline indicators", "role_binary": "Binary indicators", "role_component": "Component indicators", "role_complementary": "Complementary indicators", "about_target": "About this target in the hub", "about_decisions": "Decisions", "about_paragraphs": "Decision paragraphs", "about_records": "Records", "about_other": "Other",
        "party_status": "Party status per instrument", "instrument": "Instrument", "signed": "Signed", "consented": "Ratified, accepted, approved or acceded", "in_force": "In force", "party_source": "Dates from ECOLEX (about the end of 2018).",
        "contributors": "Contributors",
        "hierarchy": "Hierarchy", "more_narrower": "… and {n} more narrower concepts", "labels_per_language": "Labels per language", "pref_label": "Preferred", "alt_labels": "Alternative", "hidden_labels": "Hidden", "mappings": "Mappings", "map_exact": "Exact match", "map_close": "Close match", "map_broad": "Broader match", "map_narrow": "Narrower match", "map_related": "Related match",
        "dashboard": "Dashboard", "dash_intro": "What the hub knows, in charts and maps; each chart links to the lists it counts, and the table under it holds its numbers.",
        "dash_statuses": "Decisions by status", "dash_requests": "Requests (operational paragraphs)", "dash_records": "Records",
        "dash_targets": "Targets covered by decisions and records", "dash_count": "Count", "dash_records_country": "Records per country",
        "dash_records_region": "Records per region", "dash_party_status": "Party status", "dash_party_map": "Party status per country (CBD, Cartagena and Nagoya Protocols)",
        "dash_records_map": "Records per country", "dash_party_cbd_cp_np": "Party to the CBD and both Protocols", "dash_party_cbd_cp": "Party to the CBD and the Cartagena Protocol",
        "dash_party_cbd_np": "Party to the CBD and the Nagoya Protocol", "dash_party_cbd": "Party to the CBD only", "dash_party_signatory": "Signatory only",
        "dash_party_none": "No data", "dash_table": "Table", "dash_countries": "countries", "dash_family": "Framework",
        "by_meeting": "By meeting", "by_actor": "Operational paragraphs by actor addressed", "by_subject": "By subject",
        "by_target": "By target", "actor": "Actor", "total": "Total", "decisions_found": "decisions", "export": "Export", "act": "Act",
        "due": "Due", "reason": "Why", "preamble": "Preamble", "elements": "Paragraphs and acts",
        "st_active": "active", "st_implemented": "implemented", "st_elapsed": "elapsed", "st_superseded": "superseded",
        "st_retired": "retired", "st_inactive": "inactive", "st_require-funding": "requires funding", "st_stagnant": "stagnant",
    },
    "fr": {
        "hub": "Plateforme de connaissances du CHM", "tagline": "Le Centre d'échange de la Convention sur la diversité biologique en données liées.",
        "search": "Rechercher", "search_label": "Rechercher libellés, titres et cotes (p. ex. X/15, COP 10)", "results": "Résultats",
        "no_results": "Aucun résultat", "holds": "Contenu de la plateforme", "entry_points": "Parcourir",
        "class": "Classe", "instances": "Instances", "properties": "Propriétés", "referenced_by": "Cité par",
        "provenance": "Provenance", "graph": "Graphe", "loaded": "Chargé le", "source": "Source",
        "lineage": "Filiation", "builds_on": "S'appuie sur", "built_on_by": "Repris ensuite par", "paragraphs": "Paragraphes",
        "requests": "Demandes", "addressee": "à", "targets": "Objectifs visés", "status": "Statut",
        "decisions_based": "Décisions fondées sur cet article", "actions": "Actions stratégiques", "goal": "But",
        "outcome": "Résultat", "action": "Action", "lead": "Responsable", "years": "Années", "page": "Page", "of": "sur",
        "previous": "Précédent", "next": "Suivant", "sort": "Trier par", "filter": "Filtrer", "apply": "Appliquer",
        "any": "tous", "label": "Libellé", "date": "Date", "language": "Langue", "not_found": "Introuvable",
        "not_found_text": "La plateforme ne contient rien à cette adresse.", "formats": "Autres formats",
        "queries": "Requêtes enregistrées", "editor": "Éditeur SPARQL", "catalog": "Catalogue de données", "lineage_picture": "Schéma de filiation",
        "decisions": "Décisions", "meetings": "Réunions", "articles": "Articles", "targets_index": "Objectifs",
        "programmes": "Programmes de travail", "actors": "Acteurs", "networks": "Réseaux", "records": "Fiches",
        "requests_to": "Demandes qui lui sont adressées", "leads": "Actions stratégiques qu'il mène ou soutient",
        "kind": "Lien", "meeting": "Réunion", "subject": "Sujet", "type": "Type", "country": "Pays",
        "skip": "Aller au contenu",
        "login": "Se connecter", "logout": "Se déconnecter", "user_name": "Nom d'utilisateur", "password": "Mot de passe",
        "submit_document": "Soumettre un document", "submitted": "Soumis", "detected": "détectée", "words": "mots",
        "suggested_subjects": "Sujets suggérés", "references": "Références", "reference": "Référence",
        "none": "Aucun", "document_file": "Document", "detect": "Détecter", "submit": "Soumettre",
        "to_submit": "pour soumettre un document.", "review_queue": "File de révision", "queue_empty": "Rien à réviser.",
        "concept": "Concept", "score": "Score", "review_actions": "Actions", "accept": "Accepter", "reject": "Rejeter",
        "add_subject": "Ajouter un sujet (IRI du concept)", "add": "Ajouter",
        "tracking": "Suivi des décisions", "tracking_intro": "Les décisions par statut : chaque nombre mène aux décisions qu'il compte.",
        "status_changes": "Changements de statut", "drafts": "brouillons", "published": "publiés", "rejected": "rejetés", "publish": "Publier", "revert": "Annuler", "removed_status": "statut enregistré retiré", "record_status": "Enregistrer un statut", "element": "Paragraphe", "note": "Note",
        "needs": "Besoins de coopération", "offers": "Offres de coopération", "matches": "Mises en relation", "match_accepted": "acceptée", "match_declined": "déclinée", "decline": "Décliner",
        "new_need": "Exprimer un besoin", "new_offer": "Faire une offre", "description": "Description", "who_need": "Qui en a besoin (IRI du pays ou de l'organisation)", "who_offer": "Qui l'offre (IRI de l'organisation)", "subjects_field": "Thèmes (concepts du thésaurus, un par ligne)", "targets_field": "Objectifs du CMB (numéros)", "support_field": "Type d'appui", "countries_field": "Pays (codes ISO)", "regions_field": "Régions", "languages_field": "Langues de travail", "capacity_field": "Capacité (nombre de besoins)", "matchmaking_review": "Besoins et offres à examiner", "close": "Clore",
        "used_in": "Où la plateforme l'emploie", "statements": "énoncés",
        "code": "Code",
        "k_recalls": "rappelle", "k_amends": "modifie", "k_supersedes": "remplace", "k_retires": "retire", "k_based on": "fondée sur", "k_implements": "met en œuvre", "k_refers to": "renvoie à", "k_references": "cite", "k_reaffirms": "réaffirme", "k_establishes": "établit", "k_extends": "prolonge", "k_renews": "renouvelle", "k_adopts": "adopte", "k_endorses": "approuve", "k_welcomes": "accueille avec satisfaction", "k_takes note of": "prend note de",
        "accept_selected": "Accepter la sélection", "reject_selected": "Rejeter la sélection", "accept_all": "Tout accepter pour ce document", "reject_all": "Tout rejeter pour ce document", "select_suggestion": "Sélectionner", "review_keys": "Touches : j/k suivant/précédent, a accepter, r rejeter, x sélectionner, A/R accepter/rejeter la sélection", "reviewed": "révisé", 
        "results_count": "résultats", "showing": "affichés", "all_types": "Tous les types", 
        "lineage_depth": "Profondeur", "depth_all": "tout", "links_away_1": "à 1 lien", "links_away_n": "à {n} liens",
        "link_kinds": "Types de liens", "lineage_more": "La chaîne continue : augmenter la profondeur", "download": "Télécharger",
        "thesaurus": "Thésaurus", "breadcrumb": "Vous êtes ici",
        "facet_meeting": "Réunion", "facet_status": "Statut", "facet_subject": "Thème", "facet_target": "Objectif",
        "place": "Lieu", "body": "Organe", "symbol": "Cote", "title": "Titre", "meeting_decisions": "Décisions de cette réunion",
        "framework_kmgbf": "Cadre mondial de la biodiversité de Kunming-Montréal", "framework_aichi": "Objectifs d'Aichi pour la biodiversité (2011-2020)", "indicators": "Indicateurs", "role_headline": "Indicateurs phares", "role_binary": "Indicateurs binaires", "role_component": "Indicateurs de composante", "role_complementary": "Indicateurs complémentaires", "about_target": "Cet objectif dans le hub", "about_decisions": "Décisions", "about_paragraphs": "Paragraphes de décisions", "about_records": "Fiches", "about_other": "Autres",
        "party_status": "Statut de Partie par instrument", "instrument": "Instrument", "signed": "Signature", "consented": "Ratification, acceptation, approbation ou adhésion", "in_force": "Entrée en vigueur", "party_source": "Dates tirées d'ECOLEX (fin 2018 environ).",
        "contributors": "Contributeurs",
        "hierarchy": "Hiérarchie", "more_narrower": "… et {n} autres concepts spécifiques", "labels_per_language": "Libellés par langue", "pref_label": "Préférentiel", "alt_labels": "Alternatifs", "hidden_labels": "Cachés", "mappings": "Alignements", "map_exact": "Correspondance exacte", "map_close": "Correspondance proche", "map_broad": "Correspondance plus large", "map_narrow": "Correspondance plus étroite", "map_related": "Correspondance associée",
        "dashboard": "Tableau de bord", "dash_intro": "Ce que le hub connaît, en graphiques et en cartes ; chaque graphique mène aux listes qu'il compte, et le tableau qui le suit donne ses chiffres.",
        "dash_statuses": "Décisions par statut", "dash_requests": "Demandes (paragraphes opérationnels)", "dash_records": "Fiches",
        "dash_targets": "Objectifs couverts par les décisions et les fiches", "dash_count": "Nombre", "dash_records_country": "Fiches par pays",
        "dash_records_region": "Fiches par région", "dash_party_status": "Statut de Partie", "dash_party_map": "Statut de Partie par pays (CDB, Protocoles de Cartagena et de Nagoya)",
        "dash_records_map": "Fiches par pays", "dash_party_cbd_cp_np": "Partie à la CDB et aux deux Protocoles", "dash_party_cbd_cp": "Partie à la CDB et au Protocole de Cartagena",
        "dash_party_cbd_np": "Partie à la CDB et au Protocole de Nagoya", "dash_party_cbd": "Partie à la CDB seulement", "dash_party_signatory": "Signataire seulement",
        "dash_party_none": "Pas de données", "dash_table": "Tableau", "dash_countries": "pays", "dash_family": "Cadre",
        "by_meeting": "Par réunion", "by_actor": "Paragraphes opérationnels par acteur visé", "by_subject": "Par thème",
        "by_target": "Par objectif", "actor": "Acteur", "total": "Total", "decisions_found": "décisions", "export": "Exporter", "act": "Acte",
        "due": "Échéance", "reason": "Pourquoi", "preamble": "Préambule", "elements": "Paragraphes et actes",
        "st_active": "en vigueur", "st_implemented": "mise en œuvre", "st_elapsed": "échue", "st_superseded": "remplacée",
        "st_retired": "retirée", "st_inactive": "inactive", "st_require-funding": "financement requis", "st_stagnant": "au point mort",
    },
    "es": {
        "hub": "Plataforma de conocimiento del CHM", "tagline": "El Mecanismo de Facilitación del Convenio sobre la Diversidad Biológica como datos enlazados.",
        "search": "Buscar", "search_label": "Buscar etiquetas, títulos y signaturas (p. ej. X/15, COP 10)", "results": "Resultados",
        "no_results": "Sin resultados", "holds": "Contenido de la plataforma", "entry_points": "Explorar",
        "class": "Clase", "instances": "Instancias", "properties": "Propiedades", "referenced_by": "Citado por",
        "provenance": "Procedencia", "graph": "Grafo", "loaded": "Cargado el", "source": "Fuente",
        "lineage": "Filiación", "builds_on": "Se basa en", "built_on_by": "Retomado después por", "paragraphs": "Párrafos",
        "requests": "Solicitudes", "addressee": "a", "targets": "Metas abordadas", "status": "Estado",
        "decisions_based": "Decisiones basadas en este artículo", "actions": "Acciones estratégicas", "goal": "Objetivo",
        "outcome": "Resultado", "action": "Acción", "lead": "Responsable", "years": "Años", "page": "Página", "of": "de",
        "previous": "Anterior", "next": "Siguiente", "sort": "Ordenar por", "filter": "Filtrar", "apply": "Aplicar",
        "any": "todos", "label": "Etiqueta", "date": "Fecha", "language": "Idioma", "not_found": "No encontrado",
        "not_found_text": "La plataforma no tiene nada en esta dirección.", "formats": "Otros formatos",
        "queries": "Consultas guardadas", "editor": "Editor SPARQL", "catalog": "Catálogo de datos", "lineage_picture": "Esquema de filiación",
        "decisions": "Decisiones", "meetings": "Reuniones", "articles": "Artículos", "targets_index": "Metas",
        "programmes": "Programas de trabajo", "actors": "Actores", "networks": "Redes", "records": "Registros",
        "requests_to": "Solicitudes que se le dirigen", "leads": "Acciones estratégicas que dirige o apoya",
        "kind": "Vínculo", "meeting": "Reunión", "subject": "Tema", "type": "Tipo", "country": "País",
        "skip": "Ir al contenido",
        "login": "Iniciar sesión", "logout": "Cerrar sesión", "user_name": "Nombre de usuario", "password": "Contraseña",
        "submit_document": "Enviar un documento", "submitted": "Enviado", "detected": "detectado", "words": "palabras",
        "suggested_subjects": "Temas sugeridos", "references": "Referencias", "reference": "Referencia",
        "none": "Ninguno", "document_file": "Documento", "detect": "Detectar", "submit": "Enviar",
        "to_submit": "para enviar un documento.", "review_queue": "Cola de revisión", "queue_empty": "Nada que revisar.",
        "concept": "Concepto", "score": "Puntuación", "review_actions": "Acciones", "accept": "Aceptar", "reject": "Rechazar",
        "add_subject": "Añadir un tema (IRI del concepto)", "add": "Añadir",
        "tracking": "Seguimiento de decisiones", "tracking_intro": "Las decisiones por estado: cada cifra lleva a las decisiones que cuenta.",
        "status_changes": "Cambios de estado", "drafts": "borradores", "published": "publicados", "rejected": "rechazados", "publish": "Publicar", "revert": "Revertir", "removed_status": "estado registrado retirado", "record_status": "Registrar un estado", "element": "Párrafo", "note": "Nota",
        "needs": "Necesidades de cooperación", "offers": "Ofertas de cooperación", "matches": "Emparejamientos", "match_accepted": "aceptado", "match_declined": "rechazado", "decline": "Rechazar",
        "new_need": "Expresar una necesidad", "new_offer": "Hacer una oferta", "description": "Descripción", "who_need": "Quién la necesita (IRI del país o la organización)", "who_offer": "Quién la ofrece (IRI de la organización)", "subjects_field": "Temas (conceptos del tesauro, uno por línea)", "targets_field": "Metas del MMB (números)", "support_field": "Tipo de apoyo", "countries_field": "Países (códigos ISO)", "regions_field": "Regiones", "languages_field": "Idiomas de trabajo", "capacity_field": "Capacidad (cuántas necesidades)", "matchmaking_review": "Necesidades y ofertas por revisar", "close": "Cerrar",
        "used_in": "Dónde lo usa la plataforma", "statements": "enunciados",
        "code": "Código",
        "k_recalls": "recuerda", "k_amends": "enmienda", "k_supersedes": "sustituye", "k_retires": "retira", "k_based on": "basada en", "k_implements": "aplica", "k_refers to": "se refiere a", "k_references": "cita", "k_reaffirms": "reafirma", "k_establishes": "establece", "k_extends": "prorroga", "k_renews": "renueva", "k_adopts": "adopta", "k_endorses": "respalda", "k_welcomes": "acoge con satisfacción", "k_takes note of": "toma nota de",
        "accept_selected": "Aceptar la selección", "reject_selected": "Rechazar la selección", "accept_all": "Aceptar todo este documento", "reject_all": "Rechazar todo este documento", "select_suggestion": "Seleccionar", "review_keys": "Teclas: j/k siguiente/anterior, a aceptar, r rechazar, x seleccionar, A/R aceptar/rechazar la selección", "reviewed": "revisado", 
        "results_count": "resultados", "showing": "mostrados", "all_types": "Todos los tipos", 
        "lineage_depth": "Profundidad", "depth_all": "todo", "links_away_1": "a 1 vínculo", "links_away_n": "a {n} vínculos",
        "link_kinds": "Tipos de vínculo", "lineage_more": "La cadena continúa: aumentar la profundidad", "download": "Descargar",
        "thesaurus": "Tesauro", "breadcrumb": "Usted está aquí",
        "facet_meeting": "Reunión", "facet_status": "Estado", "facet_subject": "Tema", "facet_target": "Meta",
        "place": "Lugar", "body": "Órgano", "symbol": "Signatura", "title": "Título", "meeting_decisions": "Decisiones de esta reunión",
        "framework_kmgbf": "Marco Mundial de Biodiversidad de Kunming-Montreal", "framework_aichi": "Metas de Aichi para la Diversidad Biológica (2011-2020)", "indicators": "Indicadores", "role_headline": "Indicadores principales", "role_binary": "Indicadores binarios", "role_component": "Indicadores de componentes", "role_complementary": "Indicadores complementarios", "about_target": "Esta meta en el hub", "about_decisions": "Decisiones", "about_paragraphs": "Párrafos de decisiones", "about_records": "Registros", "about_other": "Otros",
        "party_status": "Condición de Parte por instrumento", "instrument": "Instrumento", "signed": "Firma", "consented": "Ratificación, aceptación, aprobación o adhesión", "in_force": "Entrada en vigor", "party_source": "Fechas tomadas de ECOLEX (hacia finales de 2018).",
        "contributors": "Colaboradores",
        "hierarchy": "Jerarquía", "more_narrower": "… y {n} conceptos específicos más", "labels_per_language": "Etiquetas por idioma", "pref_label": "Preferente", "alt_labels": "Alternativas", "hidden_labels": "Ocultas", "mappings": "Correspondencias", "map_exact": "Correspondencia exacta", "map_close": "Correspondencia cercana", "map_broad": "Correspondencia más amplia", "map_narrow": "Correspondencia más específica", "map_related": "Correspondencia relacionada",
        "dashboard": "Panel", "dash_intro": "Lo que el hub conoce, en gráficos y mapas; cada gráfico lleva a las listas que cuenta, y la tabla que lo sigue da sus cifras.",
        "dash_statuses": "Decisiones por estado", "dash_requests": "Solicitudes (párrafos operativos)", "dash_records": "Registros",
        "dash_targets": "Metas cubiertas por decisiones y registros", "dash_count": "Número", "dash_records_country": "Registros por país",
        "dash_records_region": "Registros por región", "dash_party_status": "Condición de Parte", "dash_party_map": "Condición de Parte por país (CDB, Protocolos de Cartagena y de Nagoya)",
        "dash_records_map": "Registros por país", "dash_party_cbd_cp_np": "Parte en el CDB y en ambos Protocolos", "dash_party_cbd_cp": "Parte en el CDB y en el Protocolo de Cartagena",
        "dash_party_cbd_np": "Parte en el CDB y en el Protocolo de Nagoya", "dash_party_cbd": "Parte solo en el CDB", "dash_party_signatory": "Solo signatario",
        "dash_party_none": "Sin datos", "dash_table": "Tabla", "dash_countries": "países", "dash_family": "Marco",
        "by_meeting": "Por reunión", "by_actor": "Párrafos operativos por actor destinatario", "by_subject": "Por tema",
        "by_target": "Por meta", "actor": "Actor", "total": "Total", "decisions_found": "decisiones", "export": "Exportar", "act": "Acto",
        "due": "Plazo", "reason": "Motivo", "preamble": "Preámbulo", "elements": "Párrafos y actos",
        "st_active": "vigente", "st_implemented": "aplicada", "st_elapsed": "vencida", "st_superseded": "sustituida",
        "st_retired": "retirada", "st_inactive": "inactiva", "st_require-funding": "requiere financiación", "st_stagnant": "estancada",
    },
}


def choose(query_lang: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query_lang, cookie):
        if candidate and candidate.lower() in LANGS:
            return candidate.lower()
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(","):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower().split("-")[0]
        q = 1.0
        for b in bits[1:]:
            if b.strip().startswith("q="):
                try:
                    q = float(b.strip()[2:])
                except ValueError:
                    q = 0.0
        if tag in LANGS and q > 0 and (best is None or q > best[0]):
            best = (q, tag)
    return best[1] if best else DEFAULT


def pick(values: list[ox.Literal], lang: str) -> ox.Literal | None:
    """The value in ``lang``, else English, else one without a language, else any."""
    by_lang: dict[str, ox.Literal] = {}
    for v in values:
        by_lang.setdefault(v.language or "", v)
    for key in (lang, DEFAULT, ""):
        if key in by_lang:
            return by_lang[key]
    return values[0] if values else None


@lru_cache(maxsize=1)
def ontology_labels() -> dict[str, dict[str, str]]:
    """rdfs:label of every class and property declared in ontology/chm.ttl, by language."""
    data = files("ontology").joinpath("chm.ttl").read_bytes()
    out: dict[str, dict[str, str]] = {}
    for t in ox.parse(data, ox.RdfFormat.TURTLE):
        if t.predicate.value == "http://www.w3.org/2000/01/rdf-schema#label" and isinstance(t.object, ox.Literal):
            out.setdefault(t.subject.value, {})[t.object.language or ""] = t.object.value
    return out


def term_label(iri: str, lang: str) -> str:
    labels = ontology_labels().get(iri)
    if labels:
        return labels.get(lang) or labels.get(DEFAULT) or next(iter(labels.values()))
    tail = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return tail.replace("_", " ")
