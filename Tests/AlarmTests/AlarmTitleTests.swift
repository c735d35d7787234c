import Alarms
import Testing

/// What the operator reads first: the kind and the place in the site's own words, not "source 3".
@Suite struct AlarmTitleTests {
    @Test func descriptionsNameThePlaceAndNumbersStandInWithoutThem() {
        #expect(AlarmTitle.compose(kind: .burglary, partition: .init(number: 1, description: "Warehouse"),
                                   zone: .init(number: 3, description: "Back door"), event: "Zone alarm (source 3)")
            == "Burglary - Warehouse / Zone 3 Back door")
        #expect(AlarmTitle.compose(kind: .fire, partition: .init(number: 2, description: nil), zone: .init(number: 7, description: "  "),
                                   event: "Fire alarm (source 7)")
            == "Fire - Partition 2 / Zone 7")
        #expect(AlarmTitle.compose(kind: .trouble, partition: nil, zone: nil, event: "AC loss (source 2)") == "Trouble - AC loss (source 2)")
        #expect(AlarmTitle.compose(kind: .tamper, partition: .init(number: 2, description: "Office"), zone: nil, event: "Keypad tamper (source 1)")
            == "Tamper - Office: Keypad tamper (source 1)")
        #expect(AlarmTitle.compose(kind: .tamper, partition: nil, zone: .init(number: 12, description: "Keypad hall"), event: "x")
            == "Tamper - Zone 12 Keypad hall")
        #expect(AlarmTitle.compose(kind: .burglary, partition: nil, zone: .init(number: 1, description: String(repeating: "a", count: 300)), event: "x").count == 200)
    }
}
