/// `alarm_stack:`: one class per `AlarmPriority` value in the enum's order, and every `AlarmKind` in exactly one
/// class, so the station can always tell an alarm's class and how long it may wait.
extension SchemaValidator {
    mutating func checkAlarmStack() {
        guard let stack = schema.alarmStack else { return }
        let priorityName = AlarmStackDeclaration.priorityEnum
        let kindName = AlarmStackDeclaration.kindEnum
        guard let priorities = schema.enumeration(named: priorityName), let kinds = schema.enumeration(named: kindName) else {
            diagnostics.error("the alarm stack is declared over the enums \(priorityName) and \(kindName); declare both in 'enums'",
                              at: stack.location)
            return
        }
        let priorityValues = priorities.values.map(\.value)
        let kindValues = kinds.values.map(\.value)
        var position = 0
        for alarmClass in stack.classes {
            let name = alarmClass.priority.value
            guard let index = priorityValues.firstIndex(of: name) else {
                diagnostics.error("alarm class '\(name)' is not a value of \(priorityName)"
                                  + NameSuggestion.hint(for: name, in: priorityValues), at: alarmClass.priority.location)
                continue
            }
            if index < position {
                diagnostics.error("alarm class '\(name)' is out of order; list the classes in \(priorityName)'s order, most urgent first (\(priorityValues.joined(separator: ", ")))",
                                  at: alarmClass.priority.location)
            }
            position = max(position, index + 1)
            if alarmClass.acknowledgeWithinSeconds.value <= 0 {
                diagnostics.error("'acknowledge_within' of alarm class '\(name)' must be positive, e.g. 60s",
                                  at: alarmClass.acknowledgeWithinSeconds.location)
            }
        }
        let declared = Set(stack.classes.map(\.priority.value))
        for value in priorities.values where !declared.contains(value.value) {
            diagnostics.error("\(priorityName) value '\(value.value)' has no alarm class; add it to 'classes' of the alarm stack with its 'acknowledge_within'",
                              at: value.location)
        }
        var owner: [String: String] = [:]
        for alarmClass in stack.classes {
            for kind in alarmClass.kinds {
                guard kindValues.contains(kind.value) else {
                    diagnostics.error("'\(kind.value)' in alarm class '\(alarmClass.priority.value)' is not a value of \(kindName)"
                                      + NameSuggestion.hint(for: kind.value, in: kindValues), at: kind.location)
                    continue
                }
                if let first = owner[kind.value] {
                    diagnostics.error("\(kindName) '\(kind.value)' is in alarm classes '\(first)' and '\(alarmClass.priority.value)'; an alarm kind has one class",
                                      at: kind.location)
                }
                owner[kind.value] = owner[kind.value] ?? alarmClass.priority.value
            }
        }
        for value in kinds.values where owner[value.value] == nil {
            diagnostics.error("\(kindName) value '\(value.value)' is in no alarm class; add it to the 'kinds' of one", at: value.location)
        }
    }
}
